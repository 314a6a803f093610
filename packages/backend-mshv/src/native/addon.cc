// Module initialisation: registers the MSHV classes (MshvDevice through
// openDevice, MshvPartition, MshvVp), `testing` (testing_exports.h) and the
// shared ones (shared_exports.h: GuestMemory, SnapshotMemory, mapSnapshotFile,
// cancelCall, kickSignal), and exports `abi`: the ioctl numbers, structure
// sizes and offsets and the call-state layout this addon was compiled with,
// which load-native.ts compares with its own copy before anything is used.
#include <napi.h>

#include <cstddef>

#include "mshv_abi.h"
#include "mshv_addon_data.h"
#include "mshv_device.h"
#include "mshv_partition.h"
#include "mshv_vp.h"
#include "shared_exports.h"
#include "testing_exports.h"

namespace hyperlight_mshv {
namespace {

// The names are those of expectedAbi() in load-native.ts.
Napi::Object MshvAbi(Napi::Env env) {
  namespace abi = mshv_abi;
  Napi::Object numbers = Napi::Object::New(env);
  auto set = [&](const char* name, double value) { numbers.Set(name, Napi::Number::New(env, value)); };
  for (unsigned long request : {abi::kCreatePartition, abi::kInitializePartition, abi::kCreateVp, abi::kSetGuestMemory,
                                abi::kRootHvcall, abi::kRunVp, abi::kGetVpState, abi::kSetVpState}) {
    set(abi::IoctlName(request), static_cast<double>(request));
  }
  set("createPartitionSize", sizeof(abi::CreatePartition));
  set("userMemRegionSize", sizeof(abi::UserMemRegion));
  set("userMemRegionUserspaceAddr", offsetof(abi::UserMemRegion, userspace_addr));
  set("rootHvcallSize", sizeof(abi::RootHvcall));
  set("rootHvcallStatus", offsetof(abi::RootHvcall, status));
  set("rootHvcallInPtr", offsetof(abi::RootHvcall, in_ptr));
  set("rootHvcallOutPtr", offsetof(abi::RootHvcall, out_ptr));
  set("vpStateSize", sizeof(abi::GetSetVpState));
  set("vpStateBufPtr", offsetof(abi::GetSetVpState, buf_ptr));
  set("hvMessageSize", sizeof(abi::HvMessage));
  set("registerPageSize", sizeof(abi::HvVpRegisterPage));
  set("registerPageIsValid", offsetof(abi::HvVpRegisterPage, isvalid));
  set("registerPageDirty", offsetof(abi::HvVpRegisterPage, dirty));
  set("registerPageRip", offsetof(abi::HvVpRegisterPage, rip));
  set("registerPageRflags", offsetof(abi::HvVpRegisterPage, rflags));
  return numbers;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  MshvAddonData* data = InstallAddonData<MshvAddonData>(env);

  Napi::Function device = MshvDevice::Define(env);
  Napi::Function partition = MshvPartition::Define(env);
  Napi::Function vp = MshvVp::Define(env);
  data->device_constructor = Napi::Persistent(device);
  data->partition_constructor = Napi::Persistent(partition);
  data->vp_constructor = Napi::Persistent(vp);

  exports.Set("MshvDevice", device);
  exports.Set("MshvPartition", partition);
  exports.Set("MshvVp", vp);
  exports.Set("openDevice", Napi::Function::New<MshvDevice::Open>(env, "openDevice"));
  exports.Set("testing", TestingExports(env));

  Napi::Object abi = Napi::Object::New(env);
  abi.Set("mshv", MshvAbi(env));
  ExportShared(env, exports, abi);
  exports.Set("abi", abi);
  return exports;
}

}  // namespace
}  // namespace hyperlight_mshv

// The registration macro pastes the function name into an identifier, so it
// needs an unqualified name.
static Napi::Object InitHyperlightMshv(Napi::Env env, Napi::Object exports) { return hyperlight_mshv::Init(env, exports); }

NODE_API_MODULE(hyperlight_mshv, InitHyperlightMshv)
