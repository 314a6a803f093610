// VcpuRunner: what the vCPU object of any Linux backend's addon does to run
// its guest and to have a run cancelled, so each backend writes only the
// hypervisor's part. A backend's vCPU class derives from Napi::ObjectWrap<Self>
// and from VcpuRunner, adds the call-guard members to its class with
// AddCallGuardMembers<Self>() and supplies two hooks:
//
//   RunOnce(tid)  one entry into the hypervisor's blocking run ioctl through
//                 control().Run(...), and what it came to; which results count
//                 as interrupted is the backend's call (EINTR always; MSHV's
//                 EAGAIN too). No N-API: it runs on the vCPU thread for
//                 StartRun(). KVM hands RunControl its immediate-exit byte; a
//                 hypervisor without one has cancels re-kicked (run_control.h).
//   Release()     releases the whole vCPU, ReleaseRuns() first. The backend's
//                 destructor and dispose() call it, and so does the
//                 environment cleanup hook when a worker ends.
//
// What it owns: the RunControl (JS: callState, cancelId, cancel, armTimeout),
// and from the first StartRun() / setCancelListener() the EventChannel, with
// an environment cleanup hook, and from the first StartRun() the VcpuThread.
//
//   idle --RunHere()--> RunOnce on the JS thread --> idle
//   idle --StartRun(done)--> pending (RunOnce on the vCPU thread, re-entered while
//       interrupted without a cancel reason) --done(error, exitReason) on the JS thread--> idle
//   pending: AssertIdle() throws ERR_HYPERLIGHT_RUN_PENDING; the call-guard members work
//   any --ReleaseRuns()--> run stopped, thread joined, control detached, channel closed
#ifndef HYPERLIGHT_NATIVE_VCPU_RUNNER_H_
#define HYPERLIGHT_NATIVE_VCPU_RUNNER_H_

#include <napi.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "event_channel.h"
#include "run_control.h"
#include "vcpu_thread.h"

namespace hyperlight_native {

class VcpuRunner {
 public:
  VcpuRunner(const VcpuRunner&) = delete;
  VcpuRunner& operator=(const VcpuRunner&) = delete;

 protected:
  // `class_name` begins the member names in error messages ("VcpuFd.cancel").
  explicit VcpuRunner(const char* class_name) : class_name_(class_name) {}
  // The backend's destructor has called Release() (the vCPU thread uses the
  // backend's members, so it must be joined before they go).
  virtual ~VcpuRunner() = default;

  // One run on the calling thread (`tid`: its PrepareThreadForKicks()).
  virtual RunOutcome RunOnce(pid_t tid) = 0;
  // Releases the whole vCPU, ReleaseRuns() first. Idempotent.
  virtual void Release() = 0;

  // Constructor step: checks that a kick signal exists, then creates the
  // RunControl, attached to `immediate_exit` unless it is null, and the
  // callState buffer. `worker_thread`: the vCPU lives on a worker thread.
  void StartRunControl(Napi::Env env, bool worker_thread, uint8_t* immediate_exit);
  RunControl& control() { return *control_; }

  // Throws ERR_HYPERLIGHT_RUN_PENDING, naming `method` ("VcpuFd.run"), while
  // a StartRun() is pending.
  void AssertIdle(Napi::Env env, const char* method) const;
  // RunOnce on the JS thread: the exit reason, or throws the run's system error.
  Napi::Value RunHere(Napi::Env env);
  // JS thread: RunOnce on the vCPU thread (started on first use) until it
  // comes back not interrupted, or interrupted with a cancel reason in the
  // call-state word or a stop; then `done(error, exitReason)` on this thread.
  // The caller has checked AssertIdle().
  void StartRun(Napi::Env env, Napi::Function done);
  // Stops a run in progress, joins the vCPU thread, detaches the control (the
  // call-state word lives on for the call guard) and closes the channel; the
  // call-guard members throw ERR_HYPERLIGHT_DISPOSED from now on. Idempotent.
  void ReleaseRuns();
  // JS thread, for dispose(): drops the reference to the callState buffer.
  void ResetJsReferences() { call_state_buffer_.Reset(); }

  // Adds callState, cancelId, cancel, armTimeout and setCancelListener, the
  // members core's CallStateGuard uses, to the class Self (which derives from this).
  template <typename Self>
  static void AddCallGuardMembers(std::vector<typename Napi::ObjectWrap<Self>::PropertyDescriptor>& properties) {
    using Wrap = Napi::ObjectWrap<Self>;
    using Getter = typename Wrap::InstanceGetterCallback;
    using Method = typename Wrap::InstanceMethodCallback;
    properties.push_back(Wrap::InstanceAccessor("callState", static_cast<Getter>(&VcpuRunner::GetCallState), nullptr));
    properties.push_back(Wrap::InstanceAccessor("cancelId", static_cast<Getter>(&VcpuRunner::GetCancelId), nullptr));
    properties.push_back(Wrap::InstanceMethod("cancel", static_cast<Method>(&VcpuRunner::Cancel)));
    properties.push_back(Wrap::InstanceMethod("armTimeout", static_cast<Method>(&VcpuRunner::ArmTimeout)));
    properties.push_back(Wrap::InstanceMethod("setCancelListener", static_cast<Method>(&VcpuRunner::SetCancelListener)));
  }

 private:
  // Throws ERR_HYPERLIGHT_DISPOSED after ReleaseRuns(); `member` is ".cancel".
  void AssertLive(Napi::Env env, const char* member) const;
  std::string MemberName(const char* member) const { return std::string(class_name_) + member; }
  EventChannel& Channel(Napi::Env env);
  // The StartRun() job on the vCPU thread.
  void RunOnThread();
  static void OnEnvironmentCleanup(void* self);

  // callState: the call-state word (run_control.h) as a 4-byte ArrayBuffer.
  Napi::Value GetCallState(const Napi::CallbackInfo& info);
  // cancelId: this vCPU's id for cancelCall(), unique in the process.
  Napi::Value GetCancelId(const Napi::CallbackInfo& info);
  // cancel(reasonCode): boolean — cancels the open call (RunControl::Cancel).
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  // armTimeout(timeoutMs): the watchdog cancels the open call with 'timeout'
  // timeoutMs from now, unless it has ended by then.
  Napi::Value ArmTimeout(const Napi::CallbackInfo& info);
  // setCancelListener(listener | null): `listener(seq, reasonCode)` is called
  // on this thread whenever the open call is cancelled; while one is set it
  // keeps the event loop alive.
  Napi::Value SetCancelListener(const Napi::CallbackInfo& info);

  const char* const class_name_;
  bool released_ = false;
  std::shared_ptr<RunControl> control_;
  // The JS thread's id, for RunHere() (the object is only used on that thread).
  pid_t js_tid_ = 0;
  Napi::Reference<Napi::ArrayBuffer> call_state_buffer_;
  std::shared_ptr<EventChannel> channel_;
  std::unique_ptr<VcpuThread> thread_;
  napi_env env_ = nullptr;
  bool cleanup_hook_added_ = false;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_VCPU_RUNNER_H_
