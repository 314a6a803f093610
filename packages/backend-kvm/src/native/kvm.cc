#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "ioctl_retry.h"
#include "kvm_abi.h"
#include "kvm_addon_data.h"
#include "throw.h"
#include "vm_fd.h"

namespace hyperlight_kvm {

namespace {

constexpr const char* kDefaultDevicePath = "/dev/kvm";
// KVM_GET_SUPPORTED_CPUID fails with E2BIG until the buffer is large enough;
// current kernels need at most KVM_MAX_CPUID_ENTRIES (256).
constexpr uint32_t kFirstCpuidCapacity = 256;
constexpr uint32_t kMaxCpuidCapacity = 4096;

}  // namespace

Napi::Function Kvm::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod<&Kvm::GetApiVersion>("getApiVersion"),
      InstanceMethod<&Kvm::CheckExtension>("checkExtension"),
      InstanceMethod<&Kvm::GetVcpuMmapSize>("getVcpuMmapSize"),
      InstanceMethod<&Kvm::GetSupportedCpuid>("getSupportedCpuid"),
      InstanceMethod<&Kvm::CreateVm>("createVm"),
      InstanceMethod<&Kvm::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&Kvm::Dispose>(*dispose));
  }
  return DefineClass(env, "Kvm", properties);
}

Kvm::Kvm(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Kvm>(info) {
  Napi::Env env = info.Env();
  std::string path = kDefaultDevicePath;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsString()) ThrowTypeError(env, "new Kvm(devicePath): devicePath must be a string");
    path = info[0].As<Napi::String>().Utf8Value();
  }
  fd_.Reset(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd_.Valid()) ThrowSystemError(env, errno, "open", path.c_str());
}

int Kvm::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  return fd_.Get();
}

Napi::Value Kvm::GetApiVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "Kvm.getApiVersion");
  int version = ioctl(fd, KVM_GET_API_VERSION, 0);
  if (version < 0) ThrowSystemError(env, errno, "KVM_GET_API_VERSION");
  return Napi::Number::New(env, version);
}

Napi::Value Kvm::CheckExtension(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "Kvm.checkExtension");
  if (info.Length() < 1) ThrowTypeError(env, "Kvm.checkExtension(capability): capability must be a number");
  auto capability = static_cast<unsigned long>(GetUint(env, info[0], 0x7fffffff, "capability"));
  int result = ioctl(fd, KVM_CHECK_EXTENSION, capability);
  if (result < 0) ThrowSystemError(env, errno, "KVM_CHECK_EXTENSION");
  return Napi::Number::New(env, result);
}

Napi::Value Kvm::GetVcpuMmapSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "Kvm.getVcpuMmapSize");
  int size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < 0) ThrowSystemError(env, errno, "KVM_GET_VCPU_MMAP_SIZE");
  return Napi::Number::New(env, size);
}

Napi::Value Kvm::GetSupportedCpuid(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "Kvm.getSupportedCpuid");
  for (uint32_t capacity = kFirstCpuidCapacity; capacity <= kMaxCpuidCapacity; capacity *= 2) {
    kvm_abi::CpuidBuffer cpuid(capacity);
    // SAFETY: the buffer holds `nent` entries; KVM writes at most that many and
    // stores the count it wrote back into nent.
    if (ioctl(fd, kvm_abi::kGetSupportedCpuid, cpuid.ioctl_arg()) == 0) {
      return CpuidEntriesToJs(env, cpuid.entries(), cpuid.header()->nent);
    }
    if (errno != E2BIG) ThrowSystemError(env, errno, "KVM_GET_SUPPORTED_CPUID");
  }
  ThrowSystemError(env, E2BIG, "KVM_GET_SUPPORTED_CPUID", nullptr, "more than 4096 CPUID entries");
}

Napi::Value Kvm::CreateVm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "Kvm.createVm");
  // The vCPU's kvm_run mapping size and its sync_regs support are properties
  // of the system fd; VmFd carries them so it needs no back-pointer to Kvm.
  int mmap_size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size < 0) ThrowSystemError(env, errno, "KVM_GET_VCPU_MMAP_SIZE");
  int sync_regs = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
  if (sync_regs < 0) sync_regs = 0;

  VmFd::Init init;
  init.fd.Reset(IoctlRetryingEintr(fd, KVM_CREATE_VM, 0));  // machine type 0: the default x86 VM
  if (!init.fd.Valid()) ThrowSystemError(env, errno, "KVM_CREATE_VM");
  init.vcpu_mmap_size = static_cast<size_t>(mmap_size);
  init.sync_regs_mask = static_cast<uint32_t>(sync_regs);
  return ConstructInternal(env, GetKvmAddonData(env).vm_fd_constructor, &init);
}

Napi::Value Kvm::Dispose(const Napi::CallbackInfo& info) {
  fd_.Reset();
  return info.Env().Undefined();
}

}  // namespace hyperlight_kvm
