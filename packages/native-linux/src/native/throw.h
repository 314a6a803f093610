// Errors thrown to JavaScript. Syscall failures become Node-style system
// errors (`code` = errno name, `errno` = negative errno as in Node's own
// SystemErrors, `syscall`, optional `path`) so callers switch on `code`;
// messages read like `KVM_CREATE_VM failed: EACCES (Permission denied)`.
#ifndef HYPERLIGHT_NATIVE_THROW_H_
#define HYPERLIGHT_NATIVE_THROW_H_

#include <napi.h>

namespace hyperlight_native {

// Error code of every use of an object after dispose().
inline constexpr const char* kDisposedCode = "ERR_HYPERLIGHT_DISPOSED";

// The system error for the failed `syscall`, for code that reports it
// later or elsewhere (e.g. a run on another thread); see ThrowSystemError.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const char* path = nullptr,
                        const char* hint = nullptr);

// Throws a system error for the failed `syscall` (an ioctl or libc call name).
// `hint`, when given, is appended to the message to say what it means here.
[[noreturn]] void ThrowSystemError(Napi::Env env, int err, const char* syscall, const char* path = nullptr,
                                   const char* hint = nullptr);

// Throws Error{code: ERR_HYPERLIGHT_DISPOSED} naming the method or accessor,
// e.g. "VcpuFd.run"; `argument`, when given, names the disposed argument.
[[noreturn]] void ThrowDisposed(Napi::Env env, const char* method, const char* argument = nullptr);

// Throws TypeError{code: ERR_INVALID_ARG_TYPE}.
[[noreturn]] void ThrowTypeError(Napi::Env env, const std::string& message);

// Throws RangeError{code: ERR_OUT_OF_RANGE}.
[[noreturn]] void ThrowRangeError(Napi::Env env, const std::string& message);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_THROW_H_
