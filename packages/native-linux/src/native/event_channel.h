// EventChannel: carries events from any thread to the JS thread that owns a
// vCPU, through one napi_threadsafe_function: the end of a runAsync() run
// (from the vCPU thread) and cancels of the open call (from whichever thread
// or watchdog cancelled it).
//
// The threadsafe function keeps the event loop alive only while something
// waits: a run is pending, or a cancel listener is set. Otherwise it is
// unreferenced, so an idle VM never holds a process open.
//
//   created (unref'd) --BeginRun / SetCancelListener--> ref'd --run done / listener removed--> unref'd
//   any --Close() or environment teardown--> closed (events dropped)
#ifndef HYPERLIGHT_NATIVE_EVENT_CHANNEL_H_
#define HYPERLIGHT_NATIVE_EVENT_CHANNEL_H_

#include <napi.h>

#include <cstdint>
#include <memory>
#include <mutex>

namespace hyperlight_native {

// What one run of a vCPU came to, as its backend reports it (vcpu_runner.h).
struct RunOutcome {
  // The run ended without an exit (a signal, or a retry the hypervisor asked
  // for): an async run re-enters unless a cancel reason is set or the vCPU stops.
  bool interrupted = false;
  // The backend's exit reason, what JavaScript gets (also for an interruption).
  uint32_t exit_reason = 0;
  // Non-zero: the errno of what failed, with the syscall and an optional hint,
  // as ThrowSystemError takes them.
  int error = 0;
  const char* syscall = nullptr;
  const char* hint = nullptr;

  static RunOutcome Exit(uint32_t exit_reason) { return {false, exit_reason, 0, nullptr, nullptr}; }
  static RunOutcome Interrupted(uint32_t exit_reason) { return {true, exit_reason, 0, nullptr, nullptr}; }
  static RunOutcome Failed(int error, const char* syscall, const char* hint = nullptr) {
    return {false, 0, error, syscall, hint};
  }
};

struct VcpuEvent {
  enum class Kind { kRunDone, kCancelled };
  Kind kind = Kind::kRunDone;
  // kRunDone: the outcome, handed to done(error, exitReason).
  RunOutcome run;
  // kCancelled: which call, and the reason code (run_control.h).
  uint32_t seq = 0;
  uint32_t reason = 0;
};

class EventChannel {
 public:
  // JS thread. The threadsafe function starts unreferenced.
  static std::shared_ptr<EventChannel> Create(Napi::Env env);
  ~EventChannel();

  EventChannel(const EventChannel&) = delete;
  EventChannel& operator=(const EventChannel&) = delete;

  // Any thread. Queues `event` for the JS thread; dropped once closed.
  void Post(const VcpuEvent& event);

  // JS thread: a run starts; `done(error, exitReason)` gets its kRunDone:
  // (system error, 0) when it failed, else (null, its exit reason).
  void BeginRun(Napi::Function done);
  bool run_pending() const { return run_pending_; }
  // JS thread: `listener(seq, reasonCode)` gets every kCancelled; an empty
  // function removes it.
  void SetCancelListener(Napi::Function listener);
  // JS thread: stops delivery for good (queued events are dropped) and
  // releases the callbacks. Idempotent.
  void Close();

 private:
  explicit EventChannel(napi_env env) : env_(env) {}
  static void CallJs(napi_env env, napi_value, void* context, void* data);
  static void Finalize(napi_env env, void* data, void* hint);
  void Deliver(Napi::Env env, const VcpuEvent& event);
  void UpdateRef();

  const napi_env env_;
  std::mutex mutex_;  // guards tsfn_ between Post() on any thread and closing
  napi_threadsafe_function tsfn_ = nullptr;
  // JS thread only:
  Napi::FunctionReference run_done_;
  Napi::FunctionReference cancel_listener_;
  bool run_pending_ = false;
  bool referenced_ = false;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_EVENT_CHANNEL_H_
