#include "shared_exports.h"

#include "addon_data.h"
#include "guest_memory.h"
#include "js_number.h"
#include "kick_signal.h"
#include "run_control.h"
#include "snapshot_memory.h"

namespace hyperlight_native {
namespace {

Napi::Object CallStateLayout(Napi::Env env) {
  namespace cs = call_state;
  return NumberTable(env, {
                              {"open", cs::kOpen},
                              {"reasonShift", cs::kReasonShift},
                              {"reasonMask", cs::kReasonMask},
                              {"seqShift", cs::kSeqShift},
                              {"seqMask", cs::kSeqMask},
                              {"killed", cs::kKilled},
                              {"timeout", cs::kTimeout},
                              {"aborted", cs::kAborted},
                              {"disposed", cs::kDisposed},
                          });
}

// kickSignal(): number — the signal that kicks vCPU threads out of the run
// ioctl (kick_signal.h), installing it if no vCPU did yet; -1 when none is free.
Napi::Value GetKickSignal(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), KickSignal()); }

}  // namespace

Napi::Object ExportShared(Napi::Env env, Napi::Object exports) {
  AddonData& data = GetAddonData(env);
  exports.Set("GuestMemory", GuestMemory::Define(env));
  ExportClass(exports, "SnapshotMemory", SnapshotMemory::Define(env), data.snapshot_memory_constructor);
  exports.Set("mapSnapshotFile", Napi::Function::New<SnapshotMemory::MapFile>(env, "mapSnapshotFile"));
  exports.Set("cancelCall", Napi::Function::New<CancelCall>(env, "cancelCall"));
  exports.Set("kickSignal", Napi::Function::New<GetKickSignal>(env, "kickSignal"));
  Napi::Object abi = Napi::Object::New(env);
  abi.Set("callState", CallStateLayout(env));
  exports.Set("abi", abi);
  return abi;
}

}  // namespace hyperlight_native
