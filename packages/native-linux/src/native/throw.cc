#include "throw.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <string>

namespace hyperlight_native {

const char* ErrnoName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(err)) return name;
#else
  // Other libcs lack strerrorname_np; name the errnos hypervisors and mmap report.
  switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ENOSPC: return "ENOSPC";
    case E2BIG: return "E2BIG";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: break;
  }
#endif
  static thread_local char unknown[24];
  snprintf(unknown, sizeof unknown, "E%d", err);
  return unknown;
}

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const char* path, const char* hint) {
  const char* name = ErrnoName(err);
  std::string message = std::string(syscall);
  if (path != nullptr) message += std::string(" ") + path;
  message += std::string(" failed: ") + name + " (" + strerror(err) + ")";
  if (hint != nullptr) message += std::string("; ") + hint;
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  object.Set("code", Napi::String::New(env, name));
  object.Set("errno", Napi::Number::New(env, -err));
  object.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) object.Set("path", Napi::String::New(env, path));
  return error;
}

void ThrowSystemError(Napi::Env env, int err, const char* syscall, const char* path, const char* hint) {
  throw SystemError(env, err, syscall, path, hint);
}

void ThrowDisposed(Napi::Env env, const char* method, const char* argument) {
  std::string message = std::string(method) + ": ";
  message += argument != nullptr ? std::string(argument) + " was disposed" : std::string("used after dispose()");
  Napi::Error error = Napi::Error::New(env, message);
  error.Value().Set("code", Napi::String::New(env, kDisposedCode));
  throw error;
}

void ThrowTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw error;
}

void ThrowRangeError(Napi::Env env, const std::string& message) {
  Napi::RangeError error = Napi::RangeError::New(env, message);
  error.Value().Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  throw error;
}

}  // namespace hyperlight_native
