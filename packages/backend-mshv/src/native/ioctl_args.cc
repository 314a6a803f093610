#include "ioctl_args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ioctl_retry.h"
#include "js_number.h"
#include "mshv_abi.h"
#include "throw.h"

namespace hyperlight_mshv {

using namespace hyperlight_native;

namespace {

// Upper bound of one bounce buffer: no MSHV ioctl takes more than a few pages
// (hypercalls: one page each way; XSAVE: the partition's XSAVE size).
constexpr size_t kMaxPointerBytes = 1u << 20;

struct FreeDeleter {
  void operator()(uint8_t* bytes) const { free(bytes); }
};

// One pointer entry: where its address goes in `arg`, the caller's bytes and the bounce copy.
struct Bounce {
  size_t offset;
  Napi::Uint8Array data;
  std::unique_ptr<uint8_t, FreeDeleter> buffer;
};

// The method that must be used instead of the generic ioctl, or null.
const char* DedicatedMethod(unsigned long request) {
  switch (request) {
    case mshv_abi::kCreatePartition: return "createPartition()";
    case mshv_abi::kCreateVp: return "createVp()";
    case mshv_abi::kSetGuestMemory: return "setGuestMemory()";
    case mshv_abi::kRunVp: return "run() or runAsync()";
    default: return nullptr;
  }
}

}  // namespace

Napi::Uint8Array BytesArg(Napi::Env env, Napi::Value value, size_t min_bytes, const std::string& what) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, what + " must be a Uint8Array");
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() < min_bytes) {
    ThrowRangeError(env, what + " must hold at least " + std::to_string(min_bytes) + " bytes, got " +
                             std::to_string(bytes.ByteLength()));
  }
  return bytes;
}

Napi::Value CallIoctl(const Napi::CallbackInfo& info, int fd, const char* method) {
  Napi::Env env = info.Env();
  const std::string name = std::string(method) + "(request, arg, pointers)";
  const unsigned long request = static_cast<unsigned long>(GetUint(env, info[0], UINT32_MAX, name + ": request"));
  if (const char* dedicated = DedicatedMethod(request)) {
    ThrowRangeError(env, name + ": " + mshv_abi::IoctlName(request) + " has its own method, " + dedicated);
  }
  // The kernel reads and writes as many bytes as the request encodes.
  const size_t encoded_size = _IOC_DIR(request) == _IOC_NONE ? 0 : _IOC_SIZE(request);
  const bool has_arg = info.Length() > 1 && !info[1].IsUndefined();
  if (!has_arg && encoded_size > 0) {
    ThrowRangeError(env, name + ": the request takes a " + std::to_string(encoded_size) + "-byte arg");
  }
  Napi::Uint8Array arg;
  if (has_arg) arg = BytesArg(env, info[1], encoded_size, name + ": arg");

  // Everything that can run JavaScript (getters, conversions) happens before
  // any raw pointer into a JS buffer is taken.
  std::vector<Bounce> bounces;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsArray()) ThrowTypeError(env, name + ": pointers must be an array");
    Napi::Array pointers = info[2].As<Napi::Array>();
    const size_t arg_bytes = has_arg ? arg.ByteLength() : 0;
    for (uint32_t i = 0; i < pointers.Length(); i++) {
      const std::string entry = name + ": pointers[" + std::to_string(i) + "]";
      Napi::Value item = pointers.Get(i);
      if (!item.IsObject()) ThrowTypeError(env, entry + " must be an object {offset, data}");
      Napi::Object object = item.As<Napi::Object>();
      if (arg_bytes < sizeof(uint64_t)) ThrowRangeError(env, entry + ": arg has no room for an address");
      size_t offset = static_cast<size_t>(GetUint(env, object.Get("offset"), arg_bytes - sizeof(uint64_t), entry + ".offset"));
      bounces.push_back(Bounce{offset, BytesArg(env, object.Get("data"), 0, entry + ".data"), nullptr});
    }
    // A getter may have resized or detached a buffer meanwhile.
    if (has_arg && arg.ByteLength() != arg_bytes) ThrowRangeError(env, name + ": arg changed size while pointers were read");
  }

  for (Bounce& bounce : bounces) {
    const size_t length = bounce.data.ByteLength();
    if (length > kMaxPointerBytes) {
      ThrowRangeError(env, name + ": pointer data must be at most " + std::to_string(kMaxPointerBytes) + " bytes");
    }
    const size_t rounded = length == 0 ? mshv_abi::kPageSize : (length + mshv_abi::kPageSize - 1) & ~(mshv_abi::kPageSize - 1);
    void* raw = nullptr;
    if (int error = posix_memalign(&raw, mshv_abi::kPageSize, rounded)) {
      ThrowSystemError(env, error, "posix_memalign", nullptr, "a bounce buffer for an ioctl pointer");
    }
    bounce.buffer.reset(static_cast<uint8_t*>(raw));
    memset(bounce.buffer.get(), 0, rounded);
    if (length > 0) memcpy(bounce.buffer.get(), bounce.data.Data(), length);
  }
  uint8_t* arg_data = has_arg ? arg.Data() : nullptr;
  for (const Bounce& bounce : bounces) {
    const uint64_t address = reinterpret_cast<uintptr_t>(bounce.buffer.get());
    memcpy(arg_data + bounce.offset, &address, sizeof address);
  }

  // SAFETY: arg holds at least the bytes the request encodes (checked), and
  // every address patched into it points at a live bounce buffer.
  const int result = IoctlRetryingEintr(fd, request, arg_data);
  const int error = result < 0 ? errno : 0;
  for (Bounce& bounce : bounces) {
    if (bounce.data.ByteLength() > 0) memcpy(bounce.data.Data(), bounce.buffer.get(), bounce.data.ByteLength());
  }
  if (result < 0) ThrowSystemError(env, error, mshv_abi::IoctlName(request));
  return Napi::Number::New(env, result);
}

}  // namespace hyperlight_mshv
