// VmFd: one KVM VM fd (as kvm-ioctls' `VmFd`). Methods are named after the
// ioctls they issue.
#ifndef HYPERLIGHT_KVM_VM_FD_H_
#define HYPERLIGHT_KVM_VM_FD_H_

#include <napi.h>

#include <cstdint>
#include <map>
#include <memory>

#include "guest_memory.h"
#include "unique_fd.h"

namespace hyperlight_kvm {

using namespace hyperlight_native;

// The mappings the VM's memory slots point at, by slot number. Shared by the
// VmFd and each of its VcpuFds: the kernel VM lives until its last fd closes,
// and until then the mappings must stay mapped (see guest_memory.h).
using SlotTable = std::map<uint32_t, std::shared_ptr<Mapping>>;

class VmFd : public Napi::ObjectWrap<VmFd> {
 public:
  // What Kvm.createVm() hands to the constructor.
  struct Init {
    UniqueFd fd;
    size_t vcpu_mmap_size = 0;
    uint32_t sync_regs_mask = 0;  // KVM_CHECK_EXTENSION(KVM_CAP_SYNC_REGS)
  };

  static Napi::Function Define(Napi::Env env);

  // Only Kvm.createVm() constructs VmFds; `new VmFd()` in JS throws.
  explicit VmFd(const Napi::CallbackInfo& info);

 private:
  int Fd(Napi::Env env, const char* method) const;

  Napi::Value SetUserMemoryRegion(const Napi::CallbackInfo& info);  // KVM_SET_USER_MEMORY_REGION
  Napi::Value CreateVcpu(const Napi::CallbackInfo& info);           // KVM_CREATE_VCPU
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  UniqueFd fd_;
  size_t vcpu_mmap_size_ = 0;
  uint32_t sync_regs_mask_ = 0;
  std::shared_ptr<SlotTable> slots_;
};

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_VM_FD_H_
