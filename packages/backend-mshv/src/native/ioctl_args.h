// The generic `ioctl(request, arg?, pointers?)` every MSHV fd object offers to
// JavaScript (MshvFd in mshv-ioctls.ts). `arg` is passed in place; each
// pointer entry's bytes go to a page-aligned bounce buffer whose address is
// patched into `arg`, and come back after the ioctl, also when it fails.
#ifndef HYPERLIGHT_MSHV_IOCTL_ARGS_H_
#define HYPERLIGHT_MSHV_IOCTL_ARGS_H_

#include <napi.h>

namespace hyperlight_mshv {

// ioctl(request, arg?, pointers?): number on `fd`; `method` names the caller
// in argument errors ("MshvVp.ioctl"). Requests that have their own method
// (they return fds, pin memory or run the VP) are refused with a RangeError.
// Throws a system error naming the ioctl when it fails.
Napi::Value CallIoctl(const Napi::CallbackInfo& info, int fd, const char* method);

// `value` as a Uint8Array of at least `min_bytes` bytes; TypeError/RangeError
// naming `what` otherwise.
Napi::Uint8Array BytesArg(Napi::Env env, Napi::Value value, size_t min_bytes, const std::string& what);

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_IOCTL_ARGS_H_
