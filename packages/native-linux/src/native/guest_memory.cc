#include "guest_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "addon_data.h"
#include "fd_stat.h"
#include "memory_image.h"
#include "snapshot_memory.h"
#include "throw.h"

namespace hyperlight_native {

namespace {

// Largest size a JS number represents exactly; V8 may still refuse less.
constexpr double kMaxSafeInteger = 9007199254740991.0;
// Tags GuestMemory wrappers so MappingOf() never reinterprets another class's object.
constexpr napi_type_tag kGuestMemoryTag = {0x6879706572c1f701ULL, 0x67756573746d656dULL};
// Names in /proc/self/maps and /proc/self/fd ("/memfd:<name> (deleted)").
constexpr const char* kGuestMemfdName = "hyperlight-guest-memory";
constexpr const char* kSnapshotMemfdName = "hyperlight-snapshot";
// Seals of a snapshot memfd: its size and contents can never change again,
// and no seal can be removed (memfd_create(2), fcntl(2) F_ADD_SEALS).
constexpr int kSnapshotSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;

void ThrowIfFailed(Napi::Env env, const SysStatus& status) {
  if (!status.ok()) ThrowSystemError(env, status.err, status.syscall);
}

}  // namespace

Mapping::~Mapping() {
  // SAFETY: address_/size_ come from a successful mmap and this is the last
  // reference: no VM slot, ArrayBuffer or GuestMemory can reach them any more.
  munmap(address_, size_);
}

Napi::Function GuestMemory::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor<&GuestMemory::GetBuffer>("buffer"),
      InstanceAccessor<&GuestMemory::GetMemorySize>("memorySize"),
      InstanceMethod<&GuestMemory::Snapshot>("snapshot"),
      InstanceMethod<&GuestMemory::Restore>("restore"),
      InstanceMethod<&GuestMemory::PrivatePageCount>("privatePageCount"),
      InstanceMethod<&GuestMemory::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&GuestMemory::Dispose>(*dispose));
  }
  return DefineClass(env, "GuestMemory", properties);
}

GuestMemory::GuestMemory(const Napi::CallbackInfo& info) : Napi::ObjectWrap<GuestMemory>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) ThrowTypeError(env, "new GuestMemory(memorySize): memorySize must be a number");
  double requested = info[0].As<Napi::Number>().DoubleValue();
  if (!(requested > 0) || requested > kMaxSafeInteger || std::floor(requested) != requested ||
      std::fmod(requested, static_cast<double>(kPageSize)) != 0) {
    ThrowRangeError(env, "new GuestMemory(memorySize): memorySize must be a positive multiple of 4096, got " +
                             Napi::Number::New(env, requested).ToString().Utf8Value());
  }
  size_t size = static_cast<size_t>(requested);

  std::shared_ptr<const SnapshotImage> image;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    image = SnapshotMemory::ImageOf(env, info[1], "new GuestMemory");
    if (image->size != size) {
      ThrowRangeError(env, "new GuestMemory(memorySize, snapshot): the snapshot holds " + std::to_string(image->size) +
                               " bytes, not " + std::to_string(size));
    }
  }

  UniqueFd memfd;
  void* address;
  if (image) {
    address = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, image->fd.Get(), static_cast<off_t>(image->offset));
  } else {
    memfd.Reset(memfd_create(kGuestMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!memfd.Valid()) ThrowSystemError(env, errno, "memfd_create");
    if (ftruncate(memfd.Get(), static_cast<off_t>(size)) < 0) ThrowSystemError(env, errno, "ftruncate");
    // The mapping must never shrink under us (accessing a truncated page would
    // SIGBUS the whole process); sealing makes that impossible even by mistake.
    if (fcntl(memfd.Get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) ThrowSystemError(env, errno, "fcntl(F_ADD_SEALS)");
    address = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.Get(), 0);
  }
  if (address == MAP_FAILED) ThrowSystemError(env, errno, "mmap");
  auto mapping = std::make_shared<Mapping>(static_cast<uint8_t*>(address), size);

  auto hold = std::make_unique<BufferHold>(BufferHold{mapping});
  napi_value buffer;
  // SAFETY: the buffer covers exactly the mapping, and `hold` keeps the mapping
  // alive until V8 frees the buffer's backing store (FinalizeBuffer).
  napi_status status =
      napi_create_external_arraybuffer(env, address, size, &GuestMemory::FinalizeBuffer, hold.get(), &buffer);
  if (status == napi_no_external_buffers_allowed) {
    throw Napi::Error::New(env, "this JavaScript runtime does not allow external ArrayBuffers, which guest memory needs");
  }
  NAPI_THROW_IF_FAILED_VOID(env, status);
  hold_ = hold.release();  // now owned by the buffer's finalizer

  buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);
  memfd_ = std::move(memfd);
  image_ = std::move(image);
  mapping_ = std::move(mapping);
  memory_size_ = size;
  info.This().As<Napi::Object>().TypeTag(&kGuestMemoryTag);
}

GuestMemory::~GuestMemory() {
  // Garbage-collected without dispose(): the ArrayBuffer may still be reachable
  // from JS, so it is not detached; its own hold keeps the mapping mapped.
}

void GuestMemory::FinalizeBuffer(napi_env, void*, void* hint) { delete static_cast<BufferHold*>(hint); }

std::shared_ptr<Mapping> GuestMemory::MappingOf(Napi::Env env, Napi::Value value, const char* method) {
  bool tagged = false;
  if (value.IsObject()) {
    tagged = value.As<Napi::Object>().CheckTypeTag(&kGuestMemoryTag);
  }
  if (!tagged) ThrowTypeError(env, std::string(method) + "(): memory must be a GuestMemory");
  GuestMemory* memory = Unwrap(value.As<Napi::Object>());
  if (!memory->mapping_) ThrowDisposed(env, method, "the GuestMemory");
  return memory->mapping_;
}

Napi::Value GuestMemory::GetBuffer(const Napi::CallbackInfo& info) {
  if (!mapping_) ThrowDisposed(info.Env(), "GuestMemory.buffer");
  return buffer_.Value();
}

Napi::Value GuestMemory::GetMemorySize(const Napi::CallbackInfo& info) {
  if (!mapping_) ThrowDisposed(info.Env(), "GuestMemory.memorySize");
  return Napi::Number::New(info.Env(), static_cast<double>(memory_size_));
}

Napi::Value GuestMemory::Dispose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

void GuestMemory::Release() {
  if (!mapping_) return;
  Napi::ArrayBuffer buffer = buffer_.Value();
  if (!buffer.IsDetached()) {
    // SAFETY: detaching first means no JS code can reach the memory any more;
    // only then may this GuestMemory's holds on the mapping go. The buffer is
    // alive (strong reference) and attached, so its finalizer has not run and
    // hold_ still points at its BufferHold.
    buffer.Detach();
    hold_->mapping.reset();
  }
  // Otherwise someone else detached the buffer (e.g. transferred it): its
  // backing store may live on in another ArrayBuffer, whose finalizer releases
  // the mapping; hold_ may already be freed, so it is not touched.
  hold_ = nullptr;
  buffer_.Reset();
  mapping_.reset();  // unmaps now unless a VM slot still uses the memory
  memfd_.Reset();
  image_.reset();
}

// snapshot(): SnapshotMemory — a sealed copy of the current contents; the
// memory then continues copy-on-write over it. Copies only pages that can
// hold data: the backing file's data pages and the pages private to the
// mapping (pagemap), never faulting in pages that were never touched.
Napi::Value GuestMemory::Snapshot(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!mapping_) ThrowDisposed(env, "GuestMemory.snapshot");
  uint8_t* address = mapping_->address();

  PageRuns private_pages;  // none under MAP_SHARED: every write lands in the memfd
  PageRuns own_data;
  FileWindow base;
  const PageRuns* base_data = &own_data;
  if (image_) {
    ThrowIfFailed(env, FindPrivatePages(address, memory_size_, &private_pages));
    base = image_->Window();
    base_data = &image_->data_pages;
  } else {
    base = FileWindow{memfd_.Get(), 0, memory_size_};
    ThrowIfFailed(env, FindDataPages(base, &own_data));
  }

  auto image = std::make_shared<SnapshotImage>();
  image->fd.Reset(memfd_create(kSnapshotMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!image->fd.Valid()) ThrowSystemError(env, errno, "memfd_create");
  image->size = memory_size_;
  if (ftruncate(image->fd.Get(), static_cast<off_t>(memory_size_)) < 0) ThrowSystemError(env, errno, "ftruncate");
  ThrowIfFailed(env, WriteImage(address, base, *base_data, private_pages, image->fd.Get(), &image->data_pages));
  // F_SEAL_WRITE needs no writable shared mapping of the file: it never had one.
  if (fcntl(image->fd.Get(), F_ADD_SEALS, kSnapshotSeals) < 0) ThrowSystemError(env, errno, "fcntl(F_ADD_SEALS)");

  MapOver(env, image);
  return SnapshotMemory::New(env, std::move(image));
}

// restore(snapshot): makes the memory equal to `snapshot` again. Already
// copy-on-write over it: the private pages (every page written since, by the
// guest or by JS; the kernel's page tables say which, nothing the guest
// controls) are discarded, and the rest stays mapped, so the guest does not
// fault its working set back in (bench/restore.cc). Otherwise: remapped.
Napi::Value GuestMemory::Restore(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!mapping_) ThrowDisposed(env, "GuestMemory.restore");
  std::shared_ptr<const SnapshotImage> image = SnapshotMemory::ImageOf(env, info[0], "GuestMemory.restore");
  if (image->size != memory_size_) {
    ThrowRangeError(env, "GuestMemory.restore(): the snapshot holds " + std::to_string(image->size) +
                             " bytes, the memory " + std::to_string(memory_size_));
  }
  if (image == image_) {
    uint8_t* address = mapping_->address();
    PageRuns ranges;
    if (FindDiscardRanges(address, memory_size_, &ranges).ok() && DiscardPages(address, ranges).ok()) {
      return env.Undefined();
    }
    // pagemap unreadable here, or madvise refused (mlock'd memory): remapping
    // is correct in every case, only slower for the guest afterwards.
  }
  MapOver(env, std::move(image));
  return env.Undefined();
}

// privatePageCount(): pages this memory holds that no snapshot shares.
Napi::Value GuestMemory::PrivatePageCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!mapping_) ThrowDisposed(env, "GuestMemory.privatePageCount");
  size_t pages = 0;
  if (memfd_.Valid()) {
    // MAP_SHARED over its own memfd: every allocated page of the file.
    struct stat st;
    if (FdStat(memfd_.Get(), &st) < 0) ThrowSystemError(env, errno, "fstat");
    pages = static_cast<size_t>(st.st_blocks) * 512 / kPageSize;
  } else {
    PageRuns runs;
    ThrowIfFailed(env, FindPrivatePages(mapping_->address(), memory_size_, &runs));
    pages = PageCount(runs);
  }
  return Napi::Number::New(env, static_cast<double>(pages));
}

void GuestMemory::MapOver(Napi::Env env, std::shared_ptr<const SnapshotImage> image) {
  uint8_t* address = mapping_->address();
  // SAFETY: [address, address + memory_size_) is this GuestMemory's mapping;
  // MAP_FIXED replaces what backs it in place, so every holder's address
  // stays valid.
  void* mapped = mmap(address, memory_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, image->fd.Get(),
                      static_cast<off_t>(image->offset));
  if (mapped == MAP_FAILED) {
    const int err = errno;
    // Before Linux 6.12 a failed MAP_FIXED mmap may have unmapped the old
    // range already (mm/mmap.c, mmap_region). msync reports ENOMEM for a
    // range with unmapped pages.
    if (msync(address, memory_size_, MS_ASYNC) < 0 && errno == ENOMEM) {
      // The contents are gone. Keep the range reserved, so nothing else is
      // mapped where VM slots and the buffer point, and stop all use.
      void* reserved = mmap(address, memory_size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
      if (reserved == MAP_FAILED) {
        fprintf(stderr, "hyperlight: guest memory at %p was unmapped and cannot be reserved again\n",
                static_cast<void*>(address));
        std::abort();
      }
      Release();
      ThrowSystemError(env, err, "mmap", nullptr, "guest memory was lost; the GuestMemory is disposed");
    }
    ThrowSystemError(env, err, "mmap");
  }
  memfd_.Reset();
  image_ = std::move(image);
}

}  // namespace hyperlight_native
