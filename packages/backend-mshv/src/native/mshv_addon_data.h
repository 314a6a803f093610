// The MSHV addon's per-environment data: the shared AddonData plus the
// constructors of its own classes, which only the addon may call.
#ifndef HYPERLIGHT_MSHV_MSHV_ADDON_DATA_H_
#define HYPERLIGHT_MSHV_MSHV_ADDON_DATA_H_

#include <napi.h>

#include "addon_data.h"

namespace hyperlight_mshv {

using namespace hyperlight_native;

struct MshvAddonData : AddonData {
  Napi::FunctionReference device_constructor;
  Napi::FunctionReference partition_constructor;
  Napi::FunctionReference vp_constructor;
};

inline MshvAddonData& GetMshvAddonData(Napi::Env env) { return static_cast<MshvAddonData&>(GetAddonData(env)); }

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_MSHV_ADDON_DATA_H_
