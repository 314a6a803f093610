// Reading integer arguments from JavaScript numbers, with the TypeError or
// RangeError (throw.h) that names the argument when a value does not fit; and
// tables of numbers (constants, layouts) handed to JavaScript.
#ifndef HYPERLIGHT_NATIVE_JS_NUMBER_H_
#define HYPERLIGHT_NATIVE_JS_NUMBER_H_

#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

namespace hyperlight_native {

// Reads a non-negative integer number in [0, max] (inclusive); `what` names it.
uint64_t GetUint(Napi::Env env, Napi::Value value, uint64_t max, const std::string& what);

// A new object with one number property per (name, value) entry.
Napi::Object NumberTable(Napi::Env env, std::initializer_list<std::pair<const char*, double>> entries);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_JS_NUMBER_H_
