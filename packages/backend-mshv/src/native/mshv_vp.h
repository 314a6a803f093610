// MshvVp: one VP fd (the surface's MshvVp), from MshvPartition.createVp(),
// with its hv_message buffer and its mmap'd register page. Running and
// cancellation are native-linux's VcpuRunner (vcpu_runner.h); this class adds
// MSHV_RUN_VP. MSHV has no immediate-exit byte, so RunControl::Run skips the
// ioctl when a cancel is already pending, and a cancel re-kicks the thread
// until it has left the ioctl (run_control.h). EINTR and EAGAIN (the
// hypervisor asks for the run again) are interruptions.
//
//   idle --run()--> MSHV_RUN_VP on the JS thread --> idle
//   idle --runAsync()--> pending (MSHV_RUN_VP on the VP thread) --done(...) on the JS thread--> idle
//   pending: every method but the call-guard ones and dispose throws ERR_HYPERLIGHT_RUN_PENDING
//   any --dispose() / environment teardown--> run stopped, thread joined, fd closed,
//       register page unmapped (its buffer detached), partition hold dropped
#ifndef HYPERLIGHT_MSHV_MSHV_VP_H_
#define HYPERLIGHT_MSHV_MSHV_VP_H_

#include <napi.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>

#include "mshv_abi.h"
#include "mshv_partition.h"
#include "unique_fd.h"
#include "vcpu_runner.h"

namespace hyperlight_mshv {

using namespace hyperlight_native;

// The hv_message buffer MSHV_RUN_VP writes. Shared between the VP and the
// ArrayBuffer given to JS, so neither outlives the memory the other uses.
struct MessageStorage {
  alignas(8) uint8_t bytes[sizeof(mshv_abi::HvMessage)] = {};
};

// The register page mapping. It keeps the VP file (and so the partition) alive
// in the kernel, hence it holds the partition state too: unmapped first, then
// the state let go.
struct RegisterPage {
  RegisterPage(void* address, std::shared_ptr<PartitionState> partition) : address(address), partition(std::move(partition)) {}
  ~RegisterPage();
  RegisterPage(const RegisterPage&) = delete;
  RegisterPage& operator=(const RegisterPage&) = delete;

  void* const address;
  std::shared_ptr<PartitionState> partition;
};

class MshvVp : public Napi::ObjectWrap<MshvVp>, public VcpuRunner {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new MshvVp JS object owning `fd`, holding `partition`.
  static Napi::Object New(Napi::Env env, UniqueFd fd, std::shared_ptr<PartitionState> partition, bool worker_thread);

  // Only MshvPartition.createVp() constructs VPs; `new MshvVp()` in JS throws.
  explicit MshvVp(const Napi::CallbackInfo& info);
  ~MshvVp() override;

 private:
  // What the ArrayBuffer over the register page owns; see Dispose().
  struct PageHold {
    std::shared_ptr<RegisterPage> page;
  };

  // The fd; throws once disposed, and while a runAsync() is pending (the VP
  // mutex would block any other VP ioctl until the run returns).
  int Fd(Napi::Env env, const char* method) const;
  void Release() override;
  static void FinalizePage(napi_env env, void* data, void* hint);
  // One MSHV_RUN_VP: the message's type, HVMSG_NONE (0) when interrupted, or what failed.
  RunOutcome RunOnce(pid_t tid) override;

  Napi::Value GetMessage(const Napi::CallbackInfo& info);
  Napi::Value GetRegisterPage(const Napi::CallbackInfo& info);
  Napi::Value Ioctl(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);       // MSHV_RUN_VP
  Napi::Value RunAsync(const Napi::CallbackInfo& info);  // MSHV_RUN_VP on the VP thread
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  UniqueFd fd_;
  std::shared_ptr<PartitionState> partition_;
  std::shared_ptr<MessageStorage> message_;
  Napi::Reference<Napi::ArrayBuffer> message_buffer_;
  std::shared_ptr<RegisterPage> page_;  // null when the kernel offers none (ENODEV)
  // Strong reference: while held and attached, the finalizer has not run, so page_hold_ is valid.
  Napi::Reference<Napi::ArrayBuffer> page_buffer_;
  PageHold* page_hold_ = nullptr;
};

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_MSHV_VP_H_
