// What every Linux backend's addon exports the same way: the GuestMemory and
// SnapshotMemory classes, mapSnapshotFile, cancelCall, kickSignal, and `abi`
// with the call-state layout (abi.callState) that the TypeScript side checks
// on load, to which the backend adds its own numbers.
#ifndef HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_
#define HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_

#include <napi.h>

namespace hyperlight_native {

// Defines the shared classes and functions and `abi` on `exports`; returns
// `abi`. Call from the module's Init after InstallAddonData().
Napi::Object ExportShared(Napi::Env env, Napi::Object exports);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_
