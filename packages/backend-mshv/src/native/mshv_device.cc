#include "mshv_device.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <optional>
#include <string>
#include <vector>

#include "ioctl_args.h"
#include "ioctl_retry.h"
#include "mshv_abi.h"
#include "mshv_addon_data.h"
#include "mshv_partition.h"
#include "throw.h"

namespace hyperlight_mshv {

Napi::Function MshvDevice::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod<&MshvDevice::Ioctl>("ioctl"),
      InstanceMethod<&MshvDevice::CreatePartition>("createPartition"),
      InstanceMethod<&MshvDevice::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&MshvDevice::Dispose>(*dispose));
  }
  return DefineClass(env, "MshvDevice", properties);
}

Napi::Value MshvDevice::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) ThrowTypeError(env, "openDevice(path): path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  if (path.find('\0') != std::string::npos) ThrowTypeError(env, "openDevice(path): path must not contain NUL");
  Init init{UniqueFd(open(path.c_str(), O_RDWR | O_CLOEXEC))};
  if (!init.fd.Valid()) ThrowSystemError(env, errno, "open", path.c_str());
  return ConstructInternal(env, GetMshvAddonData(env).device_constructor, &init);
}

MshvDevice::MshvDevice(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MshvDevice>(info) {
  Init* init = TakeInternalInit<Init>(info);
  if (init == nullptr) ThrowTypeError(info.Env(), "MshvDevice cannot be constructed directly; use openDevice()");
  fd_ = std::move(init->fd);
}

int MshvDevice::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  return fd_.Get();
}

Napi::Value MshvDevice::Ioctl(const Napi::CallbackInfo& info) {
  return CallIoctl(info, Fd(info.Env(), "MshvDevice.ioctl"), "MshvDevice.ioctl");
}

// createPartition(arg): MshvPartition — MSHV_CREATE_PARTITION with `arg`
// (struct mshv_create_partition); the new fd is close-on-exec.
Napi::Value MshvDevice::CreatePartition(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "MshvDevice.createPartition");
  Napi::Uint8Array arg = BytesArg(env, info[0], sizeof(mshv_abi::CreatePartition), "MshvDevice.createPartition(arg): arg");
  mshv_abi::CreatePartition create;
  memcpy(&create, arg.Data(), sizeof create);
  UniqueFd partition(IoctlRetryingEintr(fd, mshv_abi::kCreatePartition, &create));
  if (!partition.Valid()) ThrowSystemError(env, errno, "MSHV_CREATE_PARTITION");
  return MshvPartition::New(env, std::move(partition));
}

Napi::Value MshvDevice::Dispose(const Napi::CallbackInfo& info) {
  fd_.Reset();
  return info.Env().Undefined();
}

}  // namespace hyperlight_mshv
