#include "vm_fd.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "ioctl_retry.h"
#include "kvm_abi.h"
#include "kvm_addon_data.h"
#include "throw.h"
#include "vcpu_fd.h"

namespace hyperlight_kvm {

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kMaxSafeInteger = (1ULL << 53) - 1;

// A guest-physical address given as a number or a bigint.
uint64_t GetGpa(Napi::Env env, Napi::Value value, const std::string& what) {
  if (value.IsBigInt()) {
    bool lossless = false;
    uint64_t gpa = value.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) ThrowRangeError(env, what + " must be in [0, 2^64)");
    return gpa;
  }
  return GetUint(env, value, kMaxSafeInteger, what);
}

}  // namespace

Napi::Function VmFd::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod<&VmFd::SetUserMemoryRegion>("setUserMemoryRegion"),
      InstanceMethod<&VmFd::CreateVcpu>("createVcpu"),
      InstanceMethod<&VmFd::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&VmFd::Dispose>(*dispose));
  }
  return DefineClass(env, "VmFd", properties);
}

VmFd::VmFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VmFd>(info) {
  Init* init = TakeInternalInit<Init>(info);
  if (init == nullptr) ThrowTypeError(info.Env(), "VmFd cannot be constructed directly; use Kvm.createVm()");
  fd_ = std::move(init->fd);
  vcpu_mmap_size_ = init->vcpu_mmap_size;
  sync_regs_mask_ = init->sync_regs_mask;
  slots_ = std::make_shared<SlotTable>();
}

int VmFd::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  return fd_.Get();
}

// setUserMemoryRegion({ slot, baseGpa, memory, memoryOffset = 0,
//                       memorySize = memory.memorySize - memoryOffset, flags = 0 })
// memorySize 0 deletes the slot, as in KVM.
Napi::Value VmFd::SetUserMemoryRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VmFd.setUserMemoryRegion");
  if (info.Length() < 1 || !info[0].IsObject()) {
    ThrowTypeError(env, "VmFd.setUserMemoryRegion(region): region must be an object");
  }
  Napi::Object region = info[0].As<Napi::Object>();
  std::shared_ptr<Mapping> mapping = GuestMemory::MappingOf(env, region.Get("memory"), "VmFd.setUserMemoryRegion");
  const uint64_t mapping_size = mapping->size();

  auto slot = static_cast<uint32_t>(GetUint(env, region.Get("slot"), 0xffffffffu, "region.slot"));
  uint64_t base_gpa = GetGpa(env, region.Get("baseGpa"), "region.baseGpa");
  Napi::Value offset_value = region.Get("memoryOffset");
  uint64_t offset = offset_value.IsUndefined() ? 0 : GetUint(env, offset_value, mapping_size, "region.memoryOffset");
  Napi::Value size_value = region.Get("memorySize");
  uint64_t size =
      size_value.IsUndefined() ? mapping_size - offset : GetUint(env, size_value, mapping_size, "region.memorySize");
  Napi::Value flags_value = region.Get("flags");
  auto flags = static_cast<uint32_t>(flags_value.IsUndefined() ? 0 : GetUint(env, flags_value, 0xffffffffu, "region.flags"));

  if (base_gpa % kPageSize != 0 || offset % kPageSize != 0 || size % kPageSize != 0) {
    ThrowRangeError(env, "VmFd.setUserMemoryRegion(): baseGpa, memoryOffset and memorySize must be multiples of 4096");
  }
  if (offset + size > mapping_size) {
    ThrowRangeError(env, "VmFd.setUserMemoryRegion(): memoryOffset + memorySize (" + std::to_string(offset + size) +
                             ") exceeds the GuestMemory's " + std::to_string(mapping_size) + " bytes");
  }

  kvm_userspace_memory_region kvm_region = {};
  kvm_region.slot = slot;
  kvm_region.flags = flags;
  kvm_region.guest_phys_addr = base_gpa;
  kvm_region.memory_size = size;
  // SAFETY: [offset, offset + size) lies inside the mapping (checked above), and
  // the slot table below keeps the mapping mapped for as long as the VM exists.
  kvm_region.userspace_addr = reinterpret_cast<uint64_t>(mapping->address() + offset);
  if (IoctlRetryingEintr(fd, KVM_SET_USER_MEMORY_REGION, &kvm_region) < 0) {
    ThrowSystemError(env, errno, "KVM_SET_USER_MEMORY_REGION");
  }
  if (size == 0) {
    slots_->erase(slot);  // the kernel no longer references the old mapping
  } else {
    (*slots_)[slot] = std::move(mapping);
  }
  return env.Undefined();
}

Napi::Value VmFd::CreateVcpu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VmFd.createVcpu");
  if (info.Length() < 1) ThrowTypeError(env, "VmFd.createVcpu(vcpuId, options): vcpuId must be a number");
  auto vcpu_id = static_cast<unsigned long>(GetUint(env, info[0], 0xffffffffu, "vcpuId"));
  bool worker_thread = false;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowTypeError(env, "VmFd.createVcpu(vcpuId, options): options must be an object");
    worker_thread = info[1].As<Napi::Object>().Get("workerThread").ToBoolean().Value();
  }

  VcpuFd::Init init;
  init.fd.Reset(IoctlRetryingEintr(fd, KVM_CREATE_VCPU, vcpu_id));
  if (!init.fd.Valid()) ThrowSystemError(env, errno, "KVM_CREATE_VCPU");
  init.mmap_size = vcpu_mmap_size_;
  init.sync_regs_mask = sync_regs_mask_;
  // KVM_CAP_XSAVE2 answers, on the VM fd, how many bytes KVM_GET_XSAVE2 and
  // KVM_SET_XSAVE transfer (more than struct kvm_xsave's 4096 when AMX is permitted).
  if (ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
    int xsave2_size = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    init.has_xsave2 = xsave2_size > 0;
    init.xsave_size = std::max<size_t>(sizeof(kvm_abi::XsaveRegion), xsave2_size > 0 ? xsave2_size : 0);
  }
  init.slots = slots_;
  init.worker_thread = worker_thread;
  return ConstructInternal(env, GetKvmAddonData(env).vcpu_fd_constructor, &init);
}

Napi::Value VmFd::Dispose(const Napi::CallbackInfo& info) {
  fd_.Reset();
  slots_.reset();  // the mappings stay mapped while a VcpuFd still holds the table
  return info.Env().Undefined();
}

}  // namespace hyperlight_kvm
