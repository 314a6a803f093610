#include "snapshot_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "addon_data.h"
#include "fd_stat.h"
#include "js_number.h"
#include "throw.h"

namespace hyperlight_native {

namespace {

constexpr uint64_t kMaxSafeInteger = (1ULL << 53) - 1;
// pread(2) transfers at most this much per call on Linux.
constexpr size_t kMaxReadSize = 0x7ffff000;
// Tags SnapshotMemory wrappers so ImageOf() never reinterprets another class's object.
constexpr napi_type_tag kSnapshotMemoryTag = {0x6879706572c1f702ULL, 0x736e617073686f74ULL};

// A second, independent open file description of `fd`'s file, so that the
// snapshot's own lseek(SEEK_DATA) never moves the caller's file offset and
// the caller may close or reposition `fd` freely. Falls back to a dup (which
// shares the offset) where /proc is unavailable.
UniqueFd ReopenReadOnly(int fd, const struct stat& original) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd reopened(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (reopened.Valid() && FdStat(reopened.Get(), &st) == 0 && st.st_dev == original.st_dev &&
      st.st_ino == original.st_ino) {
    return reopened;
  }
  return UniqueFd(fcntl(fd, F_DUPFD_CLOEXEC, 0));
}

}  // namespace

Napi::Function SnapshotMemory::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor<&SnapshotMemory::GetSize>("size"),
      InstanceMethod<&SnapshotMemory::Read>("read"),
      InstanceMethod<&SnapshotMemory::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&SnapshotMemory::Dispose>(*dispose));
  }
  return DefineClass(env, "SnapshotMemory", properties);
}

SnapshotMemory::SnapshotMemory(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SnapshotMemory>(info) {
  auto* image = TakeInternalInit<std::shared_ptr<const SnapshotImage>>(info);
  if (image == nullptr) {
    ThrowTypeError(info.Env(),
                   "SnapshotMemory cannot be constructed directly; use GuestMemory.snapshot() or mapSnapshotFile()");
  }
  image_ = *image;
  info.This().As<Napi::Object>().TypeTag(&kSnapshotMemoryTag);
}

Napi::Object SnapshotMemory::New(Napi::Env env, std::shared_ptr<const SnapshotImage> image) {
  return ConstructInternal(env, GetAddonData(env).snapshot_memory_constructor, &image);
}

std::shared_ptr<const SnapshotImage> SnapshotMemory::ImageOf(Napi::Env env, Napi::Value value, const char* method) {
  bool tagged = value.IsObject() && value.As<Napi::Object>().CheckTypeTag(&kSnapshotMemoryTag);
  if (!tagged) ThrowTypeError(env, std::string(method) + "(): snapshot must be a SnapshotMemory of this addon");
  SnapshotMemory* snapshot = Unwrap(value.As<Napi::Object>());
  if (!snapshot->image_) ThrowDisposed(env, method, "the SnapshotMemory");
  return snapshot->image_;
}

Napi::Value SnapshotMemory::GetSize(const Napi::CallbackInfo& info) {
  if (!image_) ThrowDisposed(info.Env(), "SnapshotMemory.size");
  return Napi::Number::New(info.Env(), static_cast<double>(image_->size));
}

// read(offset, target): copies target.byteLength bytes from byte `offset`.
// pread, not a mapping: reading a hole of a memfd returns zeros without
// allocating a page (shmem_file_read_iter), where a read fault through a
// mapping would fill the hole with one.
Napi::Value SnapshotMemory::Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!image_) ThrowDisposed(env, "SnapshotMemory.read");
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, "SnapshotMemory.read(offset, target): target must be a Uint8Array");
  }
  const uint64_t offset = GetUint(env, info[0], kMaxSafeInteger, "offset");
  Napi::Uint8Array target = info[1].As<Napi::Uint8Array>();
  const size_t length = target.ByteLength();
  if (offset > image_->size || length > image_->size - offset) {
    ThrowRangeError(env, "SnapshotMemory.read(): " + std::to_string(length) + " bytes at offset " +
                             std::to_string(offset) + " lie outside the snapshot's " + std::to_string(image_->size) +
                             " bytes");
  }
  uint8_t* data = target.Data();
  size_t done = 0;
  while (done < length) {
    // SAFETY: `data` is the typed array's own storage of `length` bytes; no
    // JS runs (and nothing can detach it) until this call returns.
    ssize_t got = pread(image_->fd.Get(), data + done, std::min(length - done, kMaxReadSize),
                        static_cast<off_t>(image_->offset + offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      ThrowSystemError(env, errno, "pread");
    }
    if (got == 0) ThrowSystemError(env, EIO, "pread", nullptr, "the snapshot file is shorter than when it was mapped");
    done += static_cast<size_t>(got);
  }
  return env.Undefined();
}

Napi::Value SnapshotMemory::Dispose(const Napi::CallbackInfo& info) {
  image_.reset();
  return info.Env().Undefined();
}

Napi::Value SnapshotMemory::MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "mapSnapshotFile(fd, offset, size)";
  if (info.Length() < 3) ThrowTypeError(env, std::string(usage) + ": fd, offset and size must be numbers");
  const int fd = static_cast<int>(GetUint(env, info[0], INT_MAX, "fd"));
  const uint64_t offset = GetUint(env, info[1], kMaxSafeInteger, "offset");
  const uint64_t size = GetUint(env, info[2], kMaxSafeInteger, "size");
  if (size == 0 || offset % kPageSize != 0 || size % kPageSize != 0) {
    ThrowRangeError(env, std::string(usage) + ": offset and size must be multiples of 4096 and size positive, got offset " +
                             std::to_string(offset) + ", size " + std::to_string(size));
  }
  struct stat st;
  if (FdStat(fd, &st) < 0) ThrowSystemError(env, errno, "fstat");
  if (!S_ISREG(st.st_mode)) ThrowSystemError(env, ENODEV, "mmap", nullptr, "a snapshot must be a regular file");
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (offset > file_size || size > file_size - offset) {
    ThrowRangeError(env, std::string(usage) + ": bytes [" + std::to_string(offset) + ", " +
                             std::to_string(offset + size) + ") lie outside the " + std::to_string(file_size) +
                             "-byte file");
  }

  auto image = std::make_shared<SnapshotImage>();
  image->fd = ReopenReadOnly(fd, st);
  if (!image->fd.Valid()) ThrowSystemError(env, errno, "fcntl(F_DUPFD_CLOEXEC)");
  image->offset = offset;
  image->size = static_cast<size_t>(size);
  // Fail here rather than in the first VM: mmap refuses files that are not
  // open for reading or whose filesystem cannot map them.
  void* probe = mmap(nullptr, image->size, PROT_READ, MAP_PRIVATE, image->fd.Get(), static_cast<off_t>(offset));
  if (probe == MAP_FAILED) ThrowSystemError(env, errno, "mmap", nullptr, "the snapshot file cannot be mapped");
  munmap(probe, image->size);
  if (!FindDataPages(image->Window(), &image->data_pages).ok()) {
    // No SEEK_DATA here: every page may hold data.
    image->data_pages = {PageRun{0, image->size / kPageSize}};
  }
  return New(env, std::move(image));
}

}  // namespace hyperlight_native
