// Per-environment (per main thread / worker) state of the addon: the class
// constructors, so C++ can create VmFd, VcpuFd and SnapshotMemory instances,
// and the token that tells those constructors the call came from the addon
// and not from JS.
#ifndef HYPERLIGHT_KVM_ADDON_DATA_H_
#define HYPERLIGHT_KVM_ADDON_DATA_H_

#include <napi.h>

#include <optional>

namespace hyperlight_kvm {

struct AddonData {
  Napi::FunctionReference kvm_constructor;
  Napi::FunctionReference vm_fd_constructor;
  Napi::FunctionReference vcpu_fd_constructor;
  Napi::FunctionReference guest_memory_constructor;
  Napi::FunctionReference snapshot_memory_constructor;
  // Non-null only while the addon itself runs `new VmFd(...)`, `new VcpuFd(...)`, ...;
  // points at the init struct passed as the constructor's External argument.
  const void* construction_token = nullptr;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Runs `constructor.New({External(init)})` with the construction token set, so
// the wrapped class can tell an internal construction from `new X()` in JS.
template <typename Init>
Napi::Object ConstructInternal(Napi::Env env, Napi::FunctionReference& constructor, Init* init) {
  AddonData& data = GetAddonData(env);
  data.construction_token = init;
  struct Clear {
    AddonData& data;
    ~Clear() { data.construction_token = nullptr; }
  } clear{data};
  return constructor.New({Napi::External<Init>::New(env, init)});
}

// In a constructor: returns the init struct when the addon is constructing the
// object, or nullptr when JavaScript called the constructor directly.
template <typename Init>
Init* TakeInternalInit(const Napi::CallbackInfo& info) {
  AddonData& data = GetAddonData(info.Env());
  if (info.Length() != 1 || !info[0].IsExternal() || data.construction_token == nullptr) return nullptr;
  Init* init = info[0].As<Napi::External<Init>>().Data();
  if (init != data.construction_token) return nullptr;
  data.construction_token = nullptr;
  return init;
}

// Symbol.dispose when the runtime defines it (Node >= 20.4), so each class can
// alias dispose() as [Symbol.dispose]() for `using` declarations.
inline std::optional<Napi::Symbol> DisposeSymbol(Napi::Env env) {
  Napi::Value symbol = env.Global().Get("Symbol").As<Napi::Object>().Get("dispose");
  if (!symbol.IsSymbol()) return std::nullopt;
  return symbol.As<Napi::Symbol>();
}

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_ADDON_DATA_H_
