#include "shared_exports.h"

#include "addon_data.h"
#include "guest_memory.h"
#include "kick_signal.h"
#include "run_control.h"
#include "snapshot_memory.h"

namespace hyperlight_native {
namespace {

Napi::Object CallStateLayout(Napi::Env env) {
  namespace cs = call_state;
  Napi::Object layout = Napi::Object::New(env);
  auto set = [&](const char* name, uint32_t value) { layout.Set(name, Napi::Number::New(env, value)); };
  set("open", cs::kOpen);
  set("reasonShift", cs::kReasonShift);
  set("reasonMask", cs::kReasonMask);
  set("seqShift", cs::kSeqShift);
  set("seqMask", cs::kSeqMask);
  set("killed", cs::kKilled);
  set("timeout", cs::kTimeout);
  set("aborted", cs::kAborted);
  set("disposed", cs::kDisposed);
  return layout;
}

// kickSignal(): number — the signal that kicks vCPU threads out of the run
// ioctl (kick_signal.h), installing it if no vCPU did yet; -1 when none is free.
Napi::Value GetKickSignal(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), KickSignal()); }

}  // namespace

void ExportShared(Napi::Env env, Napi::Object exports, Napi::Object abi) {
  AddonData& data = GetAddonData(env);
  Napi::Function guest_memory = GuestMemory::Define(env);
  Napi::Function snapshot_memory = SnapshotMemory::Define(env);
  data.snapshot_memory_constructor = Napi::Persistent(snapshot_memory);

  exports.Set("GuestMemory", guest_memory);
  exports.Set("SnapshotMemory", snapshot_memory);
  exports.Set("mapSnapshotFile", Napi::Function::New<SnapshotMemory::MapFile>(env, "mapSnapshotFile"));
  exports.Set("cancelCall", Napi::Function::New<CancelCall>(env, "cancelCall"));
  exports.Set("kickSignal", Napi::Function::New<GetKickSignal>(env, "kickSignal"));
  abi.Set("callState", CallStateLayout(env));
}

}  // namespace hyperlight_native
