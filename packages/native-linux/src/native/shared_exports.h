// What every Linux backend's addon exports the same way: the GuestMemory and
// SnapshotMemory classes, mapSnapshotFile, cancelCall, kickSignal, and the
// call-state layout (abi.callState) that the TypeScript side checks on load.
#ifndef HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_
#define HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_

#include <napi.h>

namespace hyperlight_native {

// Defines the shared classes and functions on `exports` and sets
// `abi.callState`. Call from the module's Init after InstallAddonData().
void ExportShared(Napi::Env env, Napi::Object exports, Napi::Object abi);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_SHARED_EXPORTS_H_
