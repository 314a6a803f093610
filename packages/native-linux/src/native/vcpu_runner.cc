#include "vcpu_runner.h"

#include <errno.h>

#include <string>
#include <system_error>

#include "js_number.h"
#include "kick_signal.h"
#include "throw.h"
#include "watchdog.h"

namespace hyperlight_native {

namespace {

// Error code of every use of a vCPU (other than its call guard) while a run is pending.
constexpr const char* kRunPendingCode = "ERR_HYPERLIGHT_RUN_PENDING";

void FinalizeCallState(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<RunControl>*>(hint); }

}  // namespace

void VcpuRunner::StartRunControl(Napi::Env env, bool worker_thread, uint8_t* immediate_exit) {
  // Without a kick signal a running vCPU could never be cancelled.
  if (KickSignal() < 0) {
    ThrowSystemError(env, EAGAIN, "sigaction", nullptr,
                     "every real-time signal from SIGRTMIN+6 up already has a handler; "
                     "one is needed to interrupt running guests");
  }
  js_tid_ = PrepareThreadForKicks();
  int watchdog_error = 0;
  control_ = RunControl::Create(worker_thread, &watchdog_error);
  if (control_ == nullptr) ThrowSystemError(env, watchdog_error, "pthread_create", nullptr, "starting the watchdog thread");
  if (immediate_exit != nullptr) control_->Attach(immediate_exit);
  auto hold = std::make_unique<std::shared_ptr<RunControl>>(control_);
  napi_value buffer;
  // SAFETY: the ArrayBuffer covers exactly the call-state word, and `hold`
  // keeps the control (and the word) alive until V8 frees the buffer.
  napi_status status =
      napi_create_external_arraybuffer(env, control_->state_bytes(), sizeof(uint32_t), FinalizeCallState, hold.get(), &buffer);
  NAPI_THROW_IF_FAILED_VOID(env, status);
  hold.release();  // now owned by the buffer's finalizer
  call_state_buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);
}

void VcpuRunner::ReleaseRuns() {
  released_ = true;
  if (thread_ != nullptr) {
    // Make a run in progress return (stop flag, immediate-exit byte or
    // re-kicks, see run_control.h), then join.
    control_->Stop();
    thread_->StopAndJoin();
    thread_.reset();
  }
  // From here no canceller touches the immediate-exit byte or the channel, and
  // cancelCall() no longer finds this vCPU.
  if (control_ != nullptr) control_->Detach();
  if (channel_ != nullptr) {
    channel_->Close();
    channel_.reset();
  }
  if (cleanup_hook_added_) {
    napi_remove_env_cleanup_hook(env_, OnEnvironmentCleanup, this);
    cleanup_hook_added_ = false;
  }
}

// A worker terminated (or the process's main environment torn down) while
// this vCPU had a channel: stop and release everything now, before Node
// closes the threadsafe function and frees the environment.
void VcpuRunner::OnEnvironmentCleanup(void* self) {
  auto* runner = static_cast<VcpuRunner*>(self);
  runner->cleanup_hook_added_ = false;  // Node removes a hook as it runs it
  runner->Release();
}

void VcpuRunner::AssertIdle(Napi::Env env, const char* method) const {
  if (channel_ == nullptr || !channel_->run_pending()) return;
  Napi::Error error = Napi::Error::New(env, std::string(method) + ": a runAsync() is pending; wait for it first");
  error.Value().Set("code", Napi::String::New(env, kRunPendingCode));
  throw error;
}

void VcpuRunner::AssertLive(Napi::Env env, const char* member) const {
  if (released_) ThrowDisposed(env, MemberName(member).c_str());
}

EventChannel& VcpuRunner::Channel(Napi::Env env) {
  if (channel_ == nullptr) {
    channel_ = EventChannel::Create(env);
    control_->SetChannel(channel_);
    // Registered after the threadsafe function, so it runs before Node's
    // teardown of it (cleanup hooks run most recent first).
    NAPI_THROW_IF_FAILED(env, napi_add_env_cleanup_hook(env, OnEnvironmentCleanup, this), *channel_);
    env_ = env;
    cleanup_hook_added_ = true;
  }
  return *channel_;
}

Napi::Value VcpuRunner::RunHere(Napi::Env env) {
  RunOutcome outcome = RunOnce(js_tid_);
  if (outcome.error != 0) ThrowSystemError(env, outcome.error, outcome.syscall, nullptr, outcome.hint);
  return Napi::Number::New(env, outcome.exit_reason);
}

void VcpuRunner::StartRun(Napi::Env env, Napi::Function done) {
  EventChannel& channel = Channel(env);
  if (thread_ == nullptr) {
    try {
      thread_ = std::make_unique<VcpuThread>();
    } catch (const std::system_error& failure) {
      ThrowSystemError(env, failure.code().value(), "pthread_create", nullptr, "starting the vCPU thread");
    }
  }
  channel.BeginRun(done);
  // The job uses this object's members (and the backend's); ReleaseRuns()
  // joins the thread before anything is freed. Submitting publishes what this
  // thread wrote (registers staged for the run) to the vCPU thread, and the
  // event queue publishes the outcome back.
  thread_->Submit([this] { RunOnThread(); });
}

void VcpuRunner::RunOnThread() {
  const pid_t tid = PrepareThreadForKicks();
  VcpuEvent event;
  event.kind = VcpuEvent::Kind::kRunDone;
  for (;;) {
    event.run = RunOnce(tid);
    if (!event.run.interrupted) break;
    // Interrupted: a cancel, a stop, or a stray kick (e.g. the worker watchdog's), which is retried.
    if (call_state::ReasonOf(control_->state()) != 0 || control_->stopping()) break;
  }
  channel_->Post(event);
}

Napi::Value VcpuRunner::GetCallState(const Napi::CallbackInfo& info) {
  AssertLive(info.Env(), ".callState");
  return call_state_buffer_.Value();
}

Napi::Value VcpuRunner::GetCancelId(const Napi::CallbackInfo& info) {
  AssertLive(info.Env(), ".cancelId");
  return Napi::Number::New(info.Env(), static_cast<double>(control_->id()));
}

Napi::Value VcpuRunner::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, ".cancel");
  uint32_t reason = static_cast<uint32_t>(GetUint(env, info[0], call_state::kMaxReason, "reasonCode"));
  if (reason == 0) ThrowRangeError(env, MemberName(".cancel(reasonCode): reasonCode must be 1 to 4"));
  return Napi::Boolean::New(env, control_->Cancel(reason));
}

Napi::Value VcpuRunner::ArmTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, ".armTimeout");
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowTypeError(env, MemberName(".armTimeout(timeoutMs): timeoutMs must be a number"));
  double timeout_ms = info[0].As<Napi::Number>().DoubleValue();
  if (!(timeout_ms > 0)) ThrowRangeError(env, MemberName(".armTimeout(timeoutMs): timeoutMs must be > 0"));
  uint32_t word = control_->state();
  if ((word & call_state::kOpen) == 0) throw Napi::Error::New(env, MemberName(".armTimeout(timeoutMs): no call is open"));
  if (int error = Watchdog::Get().Arm(control_, call_state::SeqOf(word), timeout_ms)) {
    ThrowSystemError(env, error, "pthread_create", nullptr, "starting the watchdog thread");
  }
  return env.Undefined();
}

Napi::Value VcpuRunner::SetCancelListener(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, ".setCancelListener");
  bool set = info.Length() > 0 && info[0].IsFunction();
  if (!set && info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) {
    ThrowTypeError(env, MemberName(".setCancelListener(listener): listener must be a function or null"));
  }
  Channel(env).SetCancelListener(set ? info[0].As<Napi::Function>() : Napi::Function());
  // After the channel holds the listener; the caller reads the word next (see RunControl::Cancel).
  control_->SetNotifyOnCancel(set);
  return env.Undefined();
}

}  // namespace hyperlight_native
