// Per-environment (per main thread / worker) state an addon keeps for the
// shared classes: the SnapshotMemory constructor, so C++ can create
// instances, and the token that tells a constructor the call came
// from the addon and not from JS. Each backend's addon derives its own data
// from AddonData (adding its own constructors) and installs it with
// InstallAddonData() before defining any class.
#ifndef HYPERLIGHT_NATIVE_ADDON_DATA_H_
#define HYPERLIGHT_NATIVE_ADDON_DATA_H_

#include <napi.h>

#include <optional>
#include <type_traits>

namespace hyperlight_native {

struct AddonData {
  virtual ~AddonData() = default;

  Napi::FunctionReference snapshot_memory_constructor;
  // Non-null only while the addon itself runs `new X(...)` through
  // ConstructInternal; points at the init struct passed as the External argument.
  const void* construction_token = nullptr;
};

// Creates the addon's `Data` (an AddonData) as `env`'s instance data; Node
// deletes it when the environment exits.
template <typename Data>
Data* InstallAddonData(Napi::Env env) {
  static_assert(std::is_base_of_v<AddonData, Data>, "an addon's data derives from AddonData");
  auto* data = new Data();
  env.SetInstanceData<AddonData>(data);  // deleted through the virtual destructor
  return data;
}

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Exports the class `constructor` as `exports[name]` and keeps it in `ref`,
// for ConstructInternal.
inline void ExportClass(Napi::Object exports, const char* name, Napi::Function constructor, Napi::FunctionReference& ref) {
  ref = Napi::Persistent(constructor);
  exports.Set(name, constructor);
}

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

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_ADDON_DATA_H_
