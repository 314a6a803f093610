// VcpuFd: one KVM vCPU fd and its mmap'd `struct kvm_run` (as kvm-ioctls'
// `VcpuFd`). Methods are named after the ioctls they issue; `run` is the hot
// path and is one JS -> C++ call per guest entry (see run_block.h).
//
// Running and cancellation are native-linux's VcpuRunner (vcpu_runner.h):
// this class adds KVM_RUN with its sync_regs and the immediate_exit byte.
//
//   idle --run()--> KVM_RUN on the JS thread --exit--> idle
//   idle --runAsync()--> pending (KVM_RUN on the vCPU thread) --done(...) on the JS thread--> idle
//   pending: every method but the call-guard ones and dispose throws ERR_HYPERLIGHT_RUN_PENDING
//   any --dispose() / environment teardown--> the run is stopped, the thread joined, then everything released
#ifndef HYPERLIGHT_KVM_VCPU_FD_H_
#define HYPERLIGHT_KVM_VCPU_FD_H_

#include <linux/kvm.h>
#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "run_block.h"
#include "unique_fd.h"
#include "vcpu_runner.h"
#include "vm_fd.h"

namespace hyperlight_kvm {

using namespace hyperlight_native;

// The run block's bytes. Shared between the VcpuFd and the ArrayBuffer given
// to JS, so neither can outlive the memory the other writes.
struct RunBlockStorage {
  alignas(8) uint8_t bytes[run_block::kSize] = {};
  uint64_t* u64() { return reinterpret_cast<uint64_t*>(bytes); }
  uint32_t* u32() { return reinterpret_cast<uint32_t*>(bytes); }
};

class VcpuFd : public Napi::ObjectWrap<VcpuFd>, public VcpuRunner {
 public:
  // What VmFd.createVcpu() hands to the constructor.
  struct Init {
    UniqueFd fd;
    size_t mmap_size = 0;
    uint32_t sync_regs_mask = 0;
    // Bytes of a KVM_GET/SET_XSAVE buffer; 0 without KVM_CAP_XSAVE.
    size_t xsave_size = 0;
    bool has_xsave2 = false;  // KVM_GET_XSAVE2 exists
    std::shared_ptr<SlotTable> slots;
    // Created on a worker thread: the watchdog interrupts long runs (watchdog.h).
    bool worker_thread = false;
  };

  static Napi::Function Define(Napi::Env env);

  // Only VmFd.createVcpu() constructs VcpuFds; `new VcpuFd()` in JS throws.
  explicit VcpuFd(const Napi::CallbackInfo& info);
  ~VcpuFd() override;

 private:
  // The fd; throws once disposed, and while a runAsync() is pending (the vCPU
  // is busy on its thread, and KVM would block any ioctl until it returns).
  int Fd(Napi::Env env, const char* method) const;
  bool CanSync(uint32_t field) const { return (sync_regs_mask_ & field) != 0; }
  void Release() override;
  // One KVM_RUN with the registers staged in the block: the exit reason
  // (KVM_EXIT_INTR, interrupted, for EINTR), or what failed.
  RunOutcome RunOnce(pid_t tid) override;
  int RecordExit(uint32_t reason);  // 0 or an errno
  int LoadRegsIntoBlock(int fd);    // 0 or an errno

  Napi::Value GetRunBlock(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);         // KVM_RUN
  Napi::Value SetImmediateExit(const Napi::CallbackInfo& info);  // kvm_run.immediate_exit
  Napi::Value RunAsync(const Napi::CallbackInfo& info);    // KVM_RUN on the vCPU thread
  Napi::Value GetRegs(const Napi::CallbackInfo& info);     // KVM_GET_REGS
  Napi::Value SetRegs(const Napi::CallbackInfo& info);     // KVM_SET_REGS
  Napi::Value GetSregs(const Napi::CallbackInfo& info);    // KVM_GET_SREGS
  Napi::Value SetSregs(const Napi::CallbackInfo& info);    // KVM_SET_SREGS
  Napi::Value StageSregs(const Napi::CallbackInfo& info);  // kvm_run sync_regs, KVM_SYNC_X86_SREGS
  Napi::Value ResetFpu(const Napi::CallbackInfo& info);    // KVM_SET_XSAVE (KVM_SET_FPU without XSAVE)
  Napi::Value GetXsave(const Napi::CallbackInfo& info);    // KVM_GET_XSAVE2 / KVM_GET_XSAVE (KVM_GET_FPU without XSAVE)
  Napi::Value SetXsave(const Napi::CallbackInfo& info);    // KVM_SET_XSAVE (KVM_SET_FPU without XSAVE)
  Napi::Value GetCpuid2(const Napi::CallbackInfo& info);   // KVM_GET_CPUID2
  Napi::Value SetCpuid2(const Napi::CallbackInfo& info);   // KVM_SET_CPUID2
  Napi::Value GetXcrs(const Napi::CallbackInfo& info);     // KVM_GET_XCRS
  Napi::Value GetTscKhz(const Napi::CallbackInfo& info);   // KVM_GET_TSC_KHZ
  Napi::Value SetXcrs(const Napi::CallbackInfo& info);     // KVM_SET_XCRS
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  UniqueFd fd_;
  kvm_run* run_ = nullptr;  // mmap of the vCPU fd, run_size_ bytes
  size_t run_size_ = 0;
  uint32_t sync_regs_mask_ = 0;
  size_t xsave_size_ = 0;
  bool has_xsave2_ = false;
  std::vector<uint8_t> fpu_reset_image_;  // built on the first resetFpu()
  std::shared_ptr<SlotTable> slots_;
  std::shared_ptr<RunBlockStorage> block_;
  Napi::Reference<Napi::ArrayBuffer> block_buffer_;
  // The block's registers have not been loaded into the vCPU yet.
  bool regs_dirty_ = false;
  // kvm_run->s.regs.sregs holds special registers for the next KVM_RUN to load.
  bool sregs_staged_ = false;
};

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_VCPU_FD_H_
