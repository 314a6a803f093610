// GuestMemory: guest RAM mapped into this process and exposed to JavaScript
// as a zero-copy external ArrayBuffer.
//
// What backs the mapping changes; its address never does. The hypervisor's
// memory slot and the ArrayBuffer both point at that address for the
// GuestMemory's whole life, and each change below is one mmap(MAP_FIXED) over
// the same range, after which the kernel's MMU notifiers drop KVM's stale
// translations (Linux virt/kvm/kvm_main.c,
// kvm_mmu_notifier_invalidate_range_start). A hypervisor that pins the pages
// at map time instead (MSHV) keeps seeing the old ones: it must unmap and map
// the slot again around each change.
//
//   new GuestMemory(size)           own memfd, MAP_SHARED (zeroed)
//   new GuestMemory(size, snapshot) --> copy-on-write over snapshot (MAP_PRIVATE)
//   own memfd | CoW over S --snapshot()--> CoW over the new snapshot S'
//   own memfd | CoW over S --restore(T)--> CoW over T (remapped; T == S: private pages discarded)
//
// Lifetime: the mapping (Mapping) is reference-counted. Holders are the
// GuestMemory object, the ArrayBuffer handed to JS, and every VM memory slot
// that points at it (the VM and its vCPUs), because the hypervisor keeps
// translating guest accesses to the mapping's host addresses (Mapping::address,
// what a backend hands its map ioctl) until the VM is gone: unmapping
// while a slot still pointed there could let the guest reach whatever the host
// maps at that address next. Remapping keeps the range mapped throughout (on
// failure it is reserved PROT_NONE, never left free), so the holders' address
// stays theirs. dispose() detaches the ArrayBuffer first, so no JS code can
// touch the memory once it may be unmapped. The snapshot image a mapping is
// copy-on-write over stays open while the GuestMemory maps it.
#ifndef HYPERLIGHT_NATIVE_GUEST_MEMORY_H_
#define HYPERLIGHT_NATIVE_GUEST_MEMORY_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "unique_fd.h"

namespace hyperlight_native {

struct SnapshotImage;

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

  // new GuestMemory(memorySize, snapshot?)
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
  Napi::Value Snapshot(const Napi::CallbackInfo& info);
  Napi::Value Restore(const Napi::CallbackInfo& info);
  Napi::Value PrivatePageCount(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Release();

  // Maps the range copy-on-write over `image` (MAP_FIXED, same address) and
  // lets go of what backed it before. On failure throws the mmap error; when
  // the kernel had already unmapped the old contents, the range is reserved
  // PROT_NONE and this GuestMemory is released (its buffer detached).
  void MapOver(Napi::Env env, std::shared_ptr<const SnapshotImage> image);

  // Exactly one of memfd_ (MAP_SHARED) and image_ (MAP_PRIVATE) is set while live.
  UniqueFd memfd_;
  std::shared_ptr<const SnapshotImage> image_;
  std::shared_ptr<Mapping> mapping_;
  // Strong reference to the ArrayBuffer: while it is held and the buffer is
  // attached, the buffer's finalizer has not run, so hold_ is valid.
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  BufferHold* hold_ = nullptr;
  size_t memory_size_ = 0;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_GUEST_MEMORY_H_
