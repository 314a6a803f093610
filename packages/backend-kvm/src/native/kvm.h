// Kvm: the /dev/kvm system fd (as rust-vmm's kvm-ioctls `Kvm`). Methods are
// named after the ioctls they issue.
#ifndef HYPERLIGHT_KVM_KVM_H_
#define HYPERLIGHT_KVM_KVM_H_

#include <napi.h>

#include "unique_fd.h"

namespace hyperlight_kvm {

using namespace hyperlight_native;

class Kvm : public Napi::ObjectWrap<Kvm> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new Kvm(devicePath = "/dev/kvm"): opens the device O_RDWR | O_CLOEXEC.
  explicit Kvm(const Napi::CallbackInfo& info);

 private:
  // The fd, or throws the disposed error naming `method`.
  int Fd(Napi::Env env, const char* method) const;

  Napi::Value GetApiVersion(const Napi::CallbackInfo& info);     // KVM_GET_API_VERSION
  Napi::Value CheckExtension(const Napi::CallbackInfo& info);    // KVM_CHECK_EXTENSION
  Napi::Value GetVcpuMmapSize(const Napi::CallbackInfo& info);   // KVM_GET_VCPU_MMAP_SIZE
  Napi::Value GetSupportedCpuid(const Napi::CallbackInfo& info); // KVM_GET_SUPPORTED_CPUID
  Napi::Value CreateVm(const Napi::CallbackInfo& info);          // KVM_CREATE_VM
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  UniqueFd fd_;
};

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_KVM_H_
