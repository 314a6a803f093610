#include "throw.h"

#include <string.h>

#include <string>

#include "errno_name.h"

namespace hyperlight_native {

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
