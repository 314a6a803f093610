#include "guest_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "addon_data.h"
#include "throw.h"

namespace hyperlight_kvm {

namespace {

constexpr size_t kPageSize = 4096;
// Largest size a JS number represents exactly; V8 may still refuse less.
constexpr double kMaxSafeInteger = 9007199254740991.0;
// Tags GuestMemory wrappers so MappingOf() never reinterprets another class's object.
constexpr napi_type_tag kGuestMemoryTag = {0x6879706572c1f701ULL, 0x67756573746d656dULL};

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

  UniqueFd memfd(memfd_create("hyperlight-guest-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd.Valid()) ThrowSystemError(env, errno, "memfd_create");
  if (ftruncate(memfd.Get(), static_cast<off_t>(size)) < 0) ThrowSystemError(env, errno, "ftruncate");
  // The mapping must never shrink under us (accessing a truncated page would
  // SIGBUS the whole process); sealing makes that impossible even by mistake.
  if (fcntl(memfd.Get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) ThrowSystemError(env, errno, "fcntl(F_ADD_SEALS)");

  void* address = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.Get(), 0);
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
}

}  // namespace hyperlight_kvm
