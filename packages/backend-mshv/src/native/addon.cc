// Module initialisation: registers the MSHV classes (MshvDevice through
// openDevice, MshvPartition, MshvVp), `testing` (testing_exports.h) and the
// shared ones (shared_exports.h: GuestMemory, SnapshotMemory, mapSnapshotFile,
// cancelCall, kickSignal), and exports `abi`: the ioctl numbers, structure
// sizes and offsets and the call-state layout this addon was compiled with,
// which load-native.ts compares with its own copy before anything is used.
#include <napi.h>

#include <cstddef>

#include "js_number.h"
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
  Napi::Object numbers = NumberTable(env, {
                                              {"createPartitionSize", sizeof(abi::CreatePartition)},
                                              {"userMemRegionSize", sizeof(abi::UserMemRegion)},
                                              {"userMemRegionUserspaceAddr", offsetof(abi::UserMemRegion, userspace_addr)},
                                              {"rootHvcallSize", sizeof(abi::RootHvcall)},
                                              {"rootHvcallStatus", offsetof(abi::RootHvcall, status)},
                                              {"rootHvcallInPtr", offsetof(abi::RootHvcall, in_ptr)},
                                              {"rootHvcallOutPtr", offsetof(abi::RootHvcall, out_ptr)},
                                              {"vpStateSize", sizeof(abi::GetSetVpState)},
                                              {"vpStateBufPtr", offsetof(abi::GetSetVpState, buf_ptr)},
                                              {"hvMessageSize", sizeof(abi::HvMessage)},
                                              {"registerPageSize", sizeof(abi::HvVpRegisterPage)},
                                              {"registerPageIsValid", offsetof(abi::HvVpRegisterPage, isvalid)},
                                              {"registerPageDirty", offsetof(abi::HvVpRegisterPage, dirty)},
                                              {"registerPageRip", offsetof(abi::HvVpRegisterPage, rip)},
                                              {"registerPageRflags", offsetof(abi::HvVpRegisterPage, rflags)},
                                          });
  for (unsigned long request : {abi::kCreatePartition, abi::kInitializePartition, abi::kCreateVp, abi::kSetGuestMemory,
                                abi::kRootHvcall, abi::kRunVp, abi::kGetVpState, abi::kSetVpState}) {
    numbers.Set(abi::IoctlName(request), Napi::Number::New(env, static_cast<double>(request)));
  }
  return numbers;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  MshvAddonData* data = InstallAddonData<MshvAddonData>(env);
  ExportClass(exports, "MshvDevice", MshvDevice::Define(env), data->device_constructor);
  ExportClass(exports, "MshvPartition", MshvPartition::Define(env), data->partition_constructor);
  ExportClass(exports, "MshvVp", MshvVp::Define(env), data->vp_constructor);
  exports.Set("openDevice", Napi::Function::New<MshvDevice::Open>(env, "openDevice"));
  exports.Set("testing", TestingExports(env));
  Napi::Object abi = ExportShared(env, exports);
  abi.Set("mshv", MshvAbi(env));
  return exports;
}

}  // namespace
}  // namespace hyperlight_mshv

// The registration macro pastes the function name into an identifier, so it
// needs an unqualified name.
static Napi::Object InitHyperlightMshv(Napi::Env env, Napi::Object exports) { return hyperlight_mshv::Init(env, exports); }

NODE_API_MODULE(hyperlight_mshv, InitHyperlightMshv)
