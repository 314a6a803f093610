// MshvDevice: an open /dev/mshv (the surface's MshvDevice), from
// openDevice(path). Its one MSHV ioctl creates partitions.
//
//   openDevice(path) --> open --createPartition(arg)--> MshvPartition (the device may be disposed meanwhile)
//   open --dispose()--> disposed (every method throws ERR_HYPERLIGHT_DISPOSED)
#ifndef HYPERLIGHT_MSHV_MSHV_DEVICE_H_
#define HYPERLIGHT_MSHV_MSHV_DEVICE_H_

#include <napi.h>

#include "unique_fd.h"

namespace hyperlight_mshv {

using namespace hyperlight_native;

class MshvDevice : public Napi::ObjectWrap<MshvDevice> {
 public:
  struct Init {
    UniqueFd fd;
  };

  static Napi::Function Define(Napi::Env env);
  // openDevice(path): MshvDevice — open(path, O_RDWR | O_CLOEXEC).
  static Napi::Value Open(const Napi::CallbackInfo& info);

  // Only openDevice() constructs devices; `new MshvDevice()` in JS throws.
  explicit MshvDevice(const Napi::CallbackInfo& info);

 private:
  int Fd(Napi::Env env, const char* method) const;
  Napi::Value Ioctl(const Napi::CallbackInfo& info);
  Napi::Value CreatePartition(const Napi::CallbackInfo& info);  // MSHV_CREATE_PARTITION
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  UniqueFd fd_;
};

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_MSHV_DEVICE_H_
