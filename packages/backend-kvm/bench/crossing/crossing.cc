// Bench-only addon: the JS -> C++ register-passing shapes the KVM addon could
// use, without KVM, so their costs can be compared on any machine. It reuses
// the addon's real conversion code (convert.cc).
#include <linux/kvm.h>
#include <napi.h>
#include <string.h>

#include "convert.h"

namespace {

alignas(8) uint8_t g_block[256];
kvm_regs g_regs;

// The chosen shape: registers live in a shared block; the call passes a flag.
Napi::Value RunWithBlock(const Napi::CallbackInfo& info) {
  if (info[0].ToBoolean().Value()) memcpy(&g_regs, g_block, sizeof g_regs);  // "load into kvm_run"
  memcpy(g_block, &g_regs, sizeof g_regs);                                     // "store at exit"
  return Napi::Number::New(info.Env(), 2);
}

// The alternative: registers passed as an object of 18 bigints and returned as one.
Napi::Value RunWithObjects(const Napi::CallbackInfo& info) {
  g_regs = hyperlight_kvm::RegsFromJs(info.Env(), info[0], "regs");
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("reason", Napi::Number::New(info.Env(), 2));
  result.Set("regs", hyperlight_kvm::RegsToJs(info.Env(), g_regs));
  return result;
}

// Only the object -> kvm_regs half.
Napi::Value ReadRegsObject(const Napi::CallbackInfo& info) {
  g_regs = hyperlight_kvm::RegsFromJs(info.Env(), info[0], "regs");
  return info.Env().Undefined();
}

Napi::Value Noop(const Napi::CallbackInfo& info) { return info.Env().Undefined(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("block", Napi::ArrayBuffer::New(env, g_block, sizeof g_block));
  exports.Set("runWithBlock", Napi::Function::New(env, RunWithBlock));
  exports.Set("runWithObjects", Napi::Function::New(env, RunWithObjects));
  exports.Set("readRegsObject", Napi::Function::New(env, ReadRegsObject));
  exports.Set("noop", Napi::Function::New(env, Noop));
  return exports;
}

}  // namespace

static Napi::Object InitCrossingBench(Napi::Env env, Napi::Object exports) { return Init(env, exports); }
NODE_API_MODULE(crossing_bench, InitCrossingBench)
