// The KVM addon's per-environment state: the shared AddonData (GuestMemory,
// SnapshotMemory, the construction token) plus the constructors of the KVM
// classes, so C++ can create Kvm, VmFd and VcpuFd instances.
#ifndef HYPERLIGHT_KVM_KVM_ADDON_DATA_H_
#define HYPERLIGHT_KVM_KVM_ADDON_DATA_H_

#include <napi.h>

#include "addon_data.h"

namespace hyperlight_kvm {

using namespace hyperlight_native;

struct KvmAddonData : AddonData {
  Napi::FunctionReference kvm_constructor;
  Napi::FunctionReference vm_fd_constructor;
  Napi::FunctionReference vcpu_fd_constructor;
};

// The data InstallAddonData<KvmAddonData>() installed in addon.cc.
inline KvmAddonData& GetKvmAddonData(Napi::Env env) { return static_cast<KvmAddonData&>(GetAddonData(env)); }

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_KVM_ADDON_DATA_H_
