// GuestMemory: guest RAM as a memfd mapped MAP_SHARED into this process and
// exposed to JavaScript as a zero-copy external ArrayBuffer.
//
// Why a memfd and not anonymous memory: a later snapshot can map the same file
// MAP_PRIVATE into other sandboxes (copy-on-write) or save it to disk.
//
// Lifetime: the mapping (Mapping) is reference-counted. Holders are the
// GuestMemory object, the ArrayBuffer handed to JS, and every VM memory slot
// that points at it (VmFd and its vCPUs), because KVM keeps translating guest
// accesses to the mapping's host addresses until the VM is gone: unmapping
// while a slot still pointed there could let the guest reach whatever the host
// maps at that address next. dispose() detaches the ArrayBuffer first, so no JS
// code can touch the memory once it may be unmapped.
#ifndef HYPERLIGHT_KVM_GUEST_MEMORY_H_
#define HYPERLIGHT_KVM_GUEST_MEMORY_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "unique_fd.h"

namespace hyperlight_kvm {

// One mmap'd range; unmapped when the last holder lets go.
class Mapping {
 public:
  Mapping(uint8_t* address, size_t size) : address_(address), size_(size) {}
  ~Mapping();
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  uint8_t* address() const { return address_; }
  size_t size() const { return size_; }

 private:
  uint8_t* const address_;
  const size_t size_;
};

class GuestMemory : public Napi::ObjectWrap<GuestMemory> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new GuestMemory(memorySize)
  explicit GuestMemory(const Napi::CallbackInfo& info);
  ~GuestMemory() override;

  // Returns the mapping of the GuestMemory JS object `value`, for a VM slot.
  // Throws TypeError when `value` is not a GuestMemory, and the disposed error
  // (naming `method`) when it was disposed.
  static std::shared_ptr<Mapping> MappingOf(Napi::Env env, Napi::Value value, const char* method);

 private:
  // What the ArrayBuffer's finalizer owns: one reference to the mapping.
  struct BufferHold {
    std::shared_ptr<Mapping> mapping;
  };
  static void FinalizeBuffer(napi_env env, void* data, void* hint);

  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetMemorySize(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Release();

  UniqueFd memfd_;
  std::shared_ptr<Mapping> mapping_;
  // Strong reference to the ArrayBuffer: while it is held and the buffer is
  // attached, the buffer's finalizer has not run, so hold_ is valid.
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  BufferHold* hold_ = nullptr;
  size_t memory_size_ = 0;
};

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_GUEST_MEMORY_H_
