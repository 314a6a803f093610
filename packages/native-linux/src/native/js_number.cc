#include "js_number.h"

#include <cmath>

#include "throw.h"

namespace hyperlight_native {

uint64_t GetUint(Napi::Env env, Napi::Value value, uint64_t max, const std::string& what) {
  if (!value.IsNumber()) ThrowTypeError(env, what + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0) || number > static_cast<double>(max) || std::floor(number) != number) {
    ThrowRangeError(env, what + " must be an integer in [0, " + std::to_string(max) + "]");
  }
  return static_cast<uint64_t>(number);
}

Napi::Object NumberTable(Napi::Env env, std::initializer_list<std::pair<const char*, double>> entries) {
  Napi::Object table = Napi::Object::New(env);
  for (const auto& [name, value] : entries) table.Set(name, Napi::Number::New(env, value));
  return table;
}

}  // namespace hyperlight_native
