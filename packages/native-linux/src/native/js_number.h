// Reading integer arguments from JavaScript numbers, with the TypeError or
// RangeError (throw.h) that names the argument when a value does not fit.
#ifndef HYPERLIGHT_NATIVE_JS_NUMBER_H_
#define HYPERLIGHT_NATIVE_JS_NUMBER_H_

#include <napi.h>

#include <cstdint>
#include <string>

namespace hyperlight_native {

// Reads a non-negative integer number in [0, max] (inclusive); `what` names it.
uint64_t GetUint(Napi::Env env, Napi::Value value, uint64_t max, const std::string& what);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_JS_NUMBER_H_
