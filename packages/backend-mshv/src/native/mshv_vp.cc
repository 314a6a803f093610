#include "mshv_vp.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstddef>
#include <optional>
#include <vector>

#include "ioctl_args.h"
#include "mshv_addon_data.h"
#include "throw.h"

namespace hyperlight_mshv {

namespace {

// What New() hands the constructor.
struct VpInit {
  UniqueFd fd;
  std::shared_ptr<PartitionState> partition;
  bool worker_thread = false;
};

// HVMSG_NONE: the message type run() reports for an interrupted run.
constexpr uint32_t kNoMessage = 0;

void FinalizeMessage(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<MessageStorage>*>(hint); }

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
  };
  AddCallGuardMembers<MshvVp>(properties);
  properties.push_back(InstanceMethod<&MshvVp::Dispose>("dispose"));
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&MshvVp::Dispose>(*dispose));
  }
  return DefineClass(env, "MshvVp", properties);
}

Napi::Object MshvVp::New(Napi::Env env, UniqueFd fd, std::shared_ptr<PartitionState> partition, bool worker_thread) {
  VpInit init{std::move(fd), std::move(partition), worker_thread};
  return ConstructInternal(env, GetMshvAddonData(env).vp_constructor, &init);
}

MshvVp::MshvVp(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MshvVp>(info), VcpuRunner("MshvVp") {
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

    // No immediate-exit byte: cancels re-kick.
    StartRunControl(env, init->worker_thread, nullptr);
  } catch (...) {
    Release();
    throw;
  }
}

MshvVp::~MshvVp() { Release(); }

void MshvVp::FinalizePage(napi_env, void*, void* hint) { delete static_cast<PageHold*>(hint); }

void MshvVp::Release() {
  ReleaseRuns();  // from here no run uses the fd or the message buffer
  fd_.Reset();
  // The page stays mapped while its ArrayBuffer holds it (Dispose() detaches it).
  page_.reset();
  partition_.reset();
}

int MshvVp::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  AssertIdle(env, method);
  return fd_.Get();
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

RunOutcome MshvVp::RunOnce(pid_t tid) {
  // SAFETY: message_ holds the 256 bytes MSHV_RUN_VP writes, and lives while this object does.
  const int error = control().Run(tid, [this] { return ioctl(fd_.Get(), mshv_abi::kRunVp, message_->bytes); });
  // EINTR: a signal (a cancel, a watchdog kick, a stray one) or a cancel seen
  // before the ioctl. EAGAIN: the hypervisor asks for the run to be repeated
  // (upstream Hyperlight repeats it too); never an error of the guest's.
  if (error == EINTR || error == EAGAIN) return RunOutcome::Interrupted(kNoMessage);
  if (error != 0) return RunOutcome::Failed(error, "MSHV_RUN_VP");
  uint32_t type;
  memcpy(&type, message_->bytes + offsetof(mshv_abi::HvMessage, header.message_type), sizeof type);
  return RunOutcome::Exit(type);
}

// run(): number — one MSHV_RUN_VP into `message`: the message's type
// (HVMSG_*), or HVMSG_NONE (0) when it was interrupted (a signal: a cancel,
// a watchdog kick, a stray one; or EAGAIN, the hypervisor's retry).
Napi::Value MshvVp::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "MshvVp.run");
  return RunHere(env);
}

// runAsync(done): run() on the VP's own thread; `done(error, messageType)` is
// called on this thread's event loop. Interruptions without a cancel reason
// are re-entered there; messageType is 0 only for a cancel.
Napi::Value MshvVp::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "MshvVp.runAsync");
  if (info.Length() < 1 || !info[0].IsFunction()) ThrowTypeError(env, "MshvVp.runAsync(done): done must be a function");
  StartRun(env, info[0].As<Napi::Function>());
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
  ResetJsReferences();
  return info.Env().Undefined();
}

}  // namespace hyperlight_mshv
