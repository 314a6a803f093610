#include "mshv_vp.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "ioctl_args.h"
#include "js_number.h"
#include "kick_signal.h"
#include "mshv_addon_data.h"
#include "throw.h"
#include "watchdog.h"

namespace hyperlight_mshv {

namespace {

// What New() hands the constructor.
struct VpInit {
  UniqueFd fd;
  std::shared_ptr<PartitionState> partition;
  bool worker_thread = false;
};

// exitReason values of a runAsync() done event (EventChannel carries a number).
constexpr uint32_t kInterrupted = 0;
constexpr uint32_t kGotMessage = 1;

// Error code of every use of a VP (other than its call guard) while runAsync() is pending.
constexpr const char* kRunPendingCode = "ERR_HYPERLIGHT_RUN_PENDING";

void FinalizeMessage(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<MessageStorage>*>(hint); }
void FinalizeCallState(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<RunControl>*>(hint); }

}  // namespace

RegisterPage::~RegisterPage() {
  // SAFETY: one page mapped by the VP's constructor; nothing reaches it any more.
  munmap(address, mshv_abi::kPageSize);
}

Napi::Function MshvVp::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor<&MshvVp::GetMessage>("message"),
      InstanceAccessor<&MshvVp::GetRegisterPage>("registerPage"),
      InstanceMethod<&MshvVp::Ioctl>("ioctl"),
      InstanceMethod<&MshvVp::Run>("run"),
      InstanceMethod<&MshvVp::RunAsync>("runAsync"),
      InstanceAccessor<&MshvVp::GetCallState>("callState"),
      InstanceAccessor<&MshvVp::GetCancelId>("cancelId"),
      InstanceMethod<&MshvVp::Cancel>("cancel"),
      InstanceMethod<&MshvVp::ArmTimeout>("armTimeout"),
      InstanceMethod<&MshvVp::SetCancelListener>("setCancelListener"),
      InstanceMethod<&MshvVp::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&MshvVp::Dispose>(*dispose));
  }
  return DefineClass(env, "MshvVp", properties);
}

Napi::Object MshvVp::New(Napi::Env env, UniqueFd fd, std::shared_ptr<PartitionState> partition, bool worker_thread) {
  VpInit init{std::move(fd), std::move(partition), worker_thread};
  return ConstructInternal(env, GetMshvAddonData(env).vp_constructor, &init);
}

MshvVp::MshvVp(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MshvVp>(info) {
  Napi::Env env = info.Env();
  VpInit* init = TakeInternalInit<VpInit>(info);
  if (init == nullptr) ThrowTypeError(env, "MshvVp cannot be constructed directly; use MshvPartition.createVp()");
  fd_ = std::move(init->fd);
  partition_ = std::move(init->partition);

  // A throwing constructor never runs the destructor: release by hand.
  try {
    message_ = std::make_shared<MessageStorage>();
    auto hold_message = std::make_unique<std::shared_ptr<MessageStorage>>(message_);
    napi_value buffer;
    // SAFETY: the ArrayBuffer covers exactly the message bytes, and
    // `hold_message` keeps them alive until V8 frees the buffer.
    napi_status status = napi_create_external_arraybuffer(env, message_->bytes, sizeof message_->bytes,
                                                          FinalizeMessage, hold_message.get(), &buffer);
    NAPI_THROW_IF_FAILED_VOID(env, status);
    hold_message.release();  // now owned by the buffer's finalizer
    message_buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);

    void* page = mmap(nullptr, mshv_abi::kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.Get(),
                      mshv_abi::kRegisterPageOffset * static_cast<off_t>(mshv_abi::kPageSize));
    if (page != MAP_FAILED) {
      page_ = std::make_shared<RegisterPage>(page, partition_);
      auto hold_page = std::make_unique<PageHold>(PageHold{page_});
      // SAFETY: the buffer covers exactly the mapped page; `hold_page` keeps
      // it mapped until Dispose() detaches the buffer or V8 frees it.
      status = napi_create_external_arraybuffer(env, page, mshv_abi::kPageSize, FinalizePage, hold_page.get(), &buffer);
      NAPI_THROW_IF_FAILED_VOID(env, status);
      page_hold_ = hold_page.release();
      page_buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);
    } else if (errno != ENODEV) {  // ENODEV: no register page (e.g. an isolated partition)
      ThrowSystemError(env, errno, "mmap", nullptr, "mapping the VP's register page");
    }

    js_tid_ = PrepareThreadForKicks();
    int watchdog_error = 0;
    // No Attach(): MSHV has no immediate-exit byte, so cancels re-kick.
    control_ = RunControl::Create(init->worker_thread, &watchdog_error);
    if (control_ == nullptr) ThrowSystemError(env, watchdog_error, "pthread_create", nullptr, "starting the watchdog thread");
    auto hold_control = std::make_unique<std::shared_ptr<RunControl>>(control_);
    // SAFETY: the ArrayBuffer covers exactly the call-state word, and
    // `hold_control` keeps the control (and the word) alive until V8 frees it.
    status = napi_create_external_arraybuffer(env, control_->state_bytes(), sizeof(uint32_t), FinalizeCallState,
                                              hold_control.get(), &buffer);
    NAPI_THROW_IF_FAILED_VOID(env, status);
    hold_control.release();
    call_state_buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);
  } catch (...) {
    Release();
    throw;
  }
}

MshvVp::~MshvVp() { Release(); }

void MshvVp::FinalizePage(napi_env, void*, void* hint) { delete static_cast<PageHold*>(hint); }

void MshvVp::Release() {
  if (thread_ != nullptr) {
    // Make a run in progress return (stop flag, kicks until it has left), then join.
    control_->Stop();
    thread_->StopAndJoin();
    thread_.reset();
  }
  // From here no canceller touches the channel, and cancelCall() no longer
  // finds this VP. The call-state word lives on for the call guard.
  if (control_ != nullptr) control_->Detach();
  if (channel_ != nullptr) {
    channel_->Close();
    channel_.reset();
  }
  if (cleanup_hook_added_) {
    napi_remove_env_cleanup_hook(env_, OnEnvironmentCleanup, this);
    cleanup_hook_added_ = false;
  }
  fd_.Reset();
  // The page stays mapped while its ArrayBuffer holds it (Dispose() detaches it).
  page_.reset();
  partition_.reset();
}

// A worker terminated (or the main environment torn down) while this VP had a
// thread or a channel: stop and release everything before Node closes the
// threadsafe function and frees the environment.
void MshvVp::OnEnvironmentCleanup(void* self) {
  auto* vp = static_cast<MshvVp*>(self);
  vp->cleanup_hook_added_ = false;  // Node removes a hook as it runs it
  vp->Release();
}

int MshvVp::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  if (channel_ != nullptr && channel_->run_pending()) {
    Napi::Error error = Napi::Error::New(env, std::string(method) + ": a runAsync() is pending; wait for it first");
    error.Value().Set("code", Napi::String::New(env, kRunPendingCode));
    throw error;
  }
  return fd_.Get();
}

void MshvVp::AssertLive(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
}

EventChannel& MshvVp::Channel(Napi::Env env) {
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

// message: ArrayBuffer — the 256-byte struct hv_message of the last run.
Napi::Value MshvVp::GetMessage(const Napi::CallbackInfo& info) {
  Fd(info.Env(), "MshvVp.message");
  return message_buffer_.Value();
}

// registerPage: ArrayBuffer | null — the VP's register page (one page), or
// null when the kernel offers none.
Napi::Value MshvVp::GetRegisterPage(const Napi::CallbackInfo& info) {
  Fd(info.Env(), "MshvVp.registerPage");
  if (page_buffer_.IsEmpty()) return info.Env().Null();
  return page_buffer_.Value();
}

Napi::Value MshvVp::Ioctl(const Napi::CallbackInfo& info) {
  return CallIoctl(info, Fd(info.Env(), "MshvVp.ioctl"), "MshvVp.ioctl");
}

MshvVp::RunOutcome MshvVp::RunOnce(pid_t tid) {
  control_->EnterRun(tid);
  int result = -1;
  int error = EINTR;
  // Without an immediate-exit byte a cancel that came before EnterRun is seen
  // only here; one that comes after finds the tid and kicks (run_control.h).
  if (!control_->interrupt_pending()) {
    // SAFETY: message_ holds the 256 bytes MSHV_RUN_VP writes, and lives while this object does.
    result = ioctl(fd_.Get(), mshv_abi::kRunVp, message_->bytes);
    error = result < 0 ? errno : 0;
  }
  control_->LeaveRun();
  if (result >= 0) return {true, 0};
  return {false, error == EINTR ? 0 : error};
}

// run(): boolean — one MSHV_RUN_VP into `message`; false when a signal
// interrupted it (a cancel, a watchdog kick or a stray signal).
Napi::Value MshvVp::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "MshvVp.run");
  RunOutcome outcome = RunOnce(js_tid_);
  if (outcome.error != 0) ThrowSystemError(env, outcome.error, "MSHV_RUN_VP");
  return Napi::Boolean::New(env, outcome.got_message);
}

// runAsync(done): run() on the VP's own thread; `done(error, gotMessage)` is
// called on this thread's event loop. Interruptions without a cancel reason
// are re-entered there; `gotMessage` is false only for a cancel.
Napi::Value MshvVp::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "MshvVp.runAsync");
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowTypeError(env, "MshvVp.runAsync(done): done must be a function");
  EventChannel& channel = Channel(env);
  if (thread_ == nullptr) {
    try {
      thread_ = std::make_unique<VcpuThread>();
    } catch (const std::system_error& failure) {
      ThrowSystemError(env, failure.code().value(), "pthread_create", nullptr, "starting the VP thread");
    }
  }
  if (run_done_trampoline_.IsEmpty()) {
    run_done_trampoline_ = Napi::Persistent(Napi::Function::New(env, OnRunDone, "runDone", this));
  }
  run_done_ = Napi::Persistent(info[0].As<Napi::Function>());
  channel.BeginRun(run_done_trampoline_.Value());
  // The job uses this object's members; Release() joins the thread before
  // anything is freed. Submitting publishes this thread's writes to the VP
  // thread, and the event queue publishes the message back.
  thread_->Submit([this] { RunOnThread(); });
  return env.Undefined();
}

void MshvVp::RunOnThread() {
  const pid_t tid = PrepareThreadForKicks();
  RunOutcome outcome;
  for (;;) {
    outcome = RunOnce(tid);
    if (outcome.error != 0 || outcome.got_message) break;
    // Interrupted: a cancel, a stop, or a stray kick (e.g. the worker watchdog's), which is retried.
    if (call_state::ReasonOf(control_->state()) != 0 || control_->stopping()) break;
  }
  VcpuEvent event;
  event.kind = VcpuEvent::Kind::kRunDone;
  event.exit_reason = outcome.got_message ? kGotMessage : kInterrupted;
  event.error = outcome.error;
  event.syscall = "MSHV_RUN_VP";
  channel_->Post(event);
}

// Only the channel calls it, and only while this VP is live: Release() closes
// the channel before the object goes.
Napi::Value MshvVp::OnRunDone(const Napi::CallbackInfo& info) {
  auto* vp = static_cast<MshvVp*>(info.Data());
  if (vp->run_done_.IsEmpty()) return info.Env().Undefined();
  Napi::Function done = vp->run_done_.Value();
  vp->run_done_.Reset();
  const bool got_message = info[1].As<Napi::Number>().Uint32Value() == kGotMessage;
  return done.Call({info[0], Napi::Boolean::New(info.Env(), got_message)});
}

// callState: the call-state word (run_control.h) as a 4-byte ArrayBuffer.
Napi::Value MshvVp::GetCallState(const Napi::CallbackInfo& info) {
  AssertLive(info.Env(), "MshvVp.callState");
  return call_state_buffer_.Value();
}

// cancelId: this VP's id for cancelCall(), unique in the process.
Napi::Value MshvVp::GetCancelId(const Napi::CallbackInfo& info) {
  AssertLive(info.Env(), "MshvVp.cancelId");
  return Napi::Number::New(info.Env(), static_cast<double>(control_->id()));
}

// cancel(reasonCode): boolean — cancels the open call (see RunControl::Cancel).
Napi::Value MshvVp::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, "MshvVp.cancel");
  uint32_t reason = static_cast<uint32_t>(GetUint(env, info[0], call_state::kMaxReason, "reasonCode"));
  if (reason == 0) ThrowRangeError(env, "MshvVp.cancel(reasonCode): reasonCode must be 1 to 4");
  return Napi::Boolean::New(env, control_->Cancel(reason));
}

// armTimeout(timeoutMs): the watchdog cancels the open call with 'timeout'
// timeoutMs from now, unless it has ended by then.
Napi::Value MshvVp::ArmTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, "MshvVp.armTimeout");
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowTypeError(env, "MshvVp.armTimeout(timeoutMs): timeoutMs must be a number");
  double timeout_ms = info[0].As<Napi::Number>().DoubleValue();
  if (!(timeout_ms > 0)) ThrowRangeError(env, "MshvVp.armTimeout(timeoutMs): timeoutMs must be > 0");
  uint32_t word = control_->state();
  if ((word & call_state::kOpen) == 0) throw Napi::Error::New(env, "MshvVp.armTimeout(timeoutMs): no call is open");
  if (int error = Watchdog::Get().Arm(control_, call_state::SeqOf(word), timeout_ms)) {
    ThrowSystemError(env, error, "pthread_create", nullptr, "starting the watchdog thread");
  }
  return env.Undefined();
}

// setCancelListener(listener | null): `listener(seq, reasonCode)` is called on
// this thread whenever the open call is cancelled; while one is set it keeps
// the event loop alive.
Napi::Value MshvVp::SetCancelListener(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AssertLive(env, "MshvVp.setCancelListener");
  bool set = info.Length() > 0 && info[0].IsFunction();
  if (!set && info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined()) {
    ThrowTypeError(env, "MshvVp.setCancelListener(listener): listener must be a function or null");
  }
  Channel(env).SetCancelListener(set ? info[0].As<Napi::Function>() : Napi::Function());
  // After the channel holds the listener; the caller reads the word next (see RunControl::Cancel).
  control_->SetNotifyOnCancel(set);
  return env.Undefined();
}

// dispose(): stops a pending run (its done is not called), closes the fd and
// unmaps the register page, detaching its ArrayBuffer. Idempotent.
Napi::Value MshvVp::Dispose(const Napi::CallbackInfo& info) {
  Release();
  if (!page_buffer_.IsEmpty()) {
    Napi::ArrayBuffer page = page_buffer_.Value();
    if (!page.IsDetached()) {
      // SAFETY: detached first, so no JS code can reach the page; the buffer
      // was attached and strongly held, so its finalizer has not run and
      // page_hold_ is valid. Dropping its hold unmaps the page now.
      page.Detach();
      page_hold_->page.reset();
    }
    page_hold_ = nullptr;
    page_buffer_.Reset();
  }
  message_buffer_.Reset();
  call_state_buffer_.Reset();
  run_done_.Reset();
  run_done_trampoline_.Reset();
  return info.Env().Undefined();
}

}  // namespace hyperlight_mshv
