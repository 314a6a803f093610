// SnapshotMemory: an immutable image of guest memory that GuestMemory maps
// copy-on-write (MAP_PRIVATE). The image is a window of a file: a sealed memfd
// made by GuestMemory.snapshot() (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
// F_SEAL_SEAL, so nothing can change it), or a snapshot file on disk opened by
// mapSnapshotFile().
//
// Lifetime: the image (SnapshotImage: the fd and what is known about the
// file) is shared by the JS object and every GuestMemory that maps it.
// dispose() drops only the JS object's share; the fd closes when the last
// GuestMemory mapping the image lets go of it, and the kernel keeps the file's
// pages for as long as any mapping of it exists.
#ifndef HYPERLIGHT_NATIVE_SNAPSHOT_MEMORY_H_
#define HYPERLIGHT_NATIVE_SNAPSHOT_MEMORY_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "memory_image.h"
#include "unique_fd.h"

namespace hyperlight_native {

// The file window behind a SnapshotMemory. Immutable once made.
struct SnapshotImage {
  UniqueFd fd;  // O_CLOEXEC, readable
  uint64_t offset = 0;
  size_t size = 0;
  // The pages that may hold non-zero bytes; all others read as zero. Known
  // when the image is made, because read faults through a MAP_PRIVATE
  // mapping later fill the file's holes with zero pages (shmem_fault) that
  // SEEK_DATA would then report as data.
  PageRuns data_pages;

  FileWindow Window() const { return FileWindow{fd.Get(), offset, size}; }
};

class SnapshotMemory : public Napi::ObjectWrap<SnapshotMemory> {
 public:
  static Napi::Function Define(Napi::Env env);

  // Only the addon constructs SnapshotMemory objects (GuestMemory.snapshot(),
  // mapSnapshotFile()); `new SnapshotMemory()` in JS throws.
  explicit SnapshotMemory(const Napi::CallbackInfo& info);

  // A new JS SnapshotMemory holding `image`.
  static Napi::Object New(Napi::Env env, std::shared_ptr<const SnapshotImage> image);

  // The image of the SnapshotMemory JS object `value`. Throws TypeError
  // (naming `method`) when it is not one, and the disposed error when it was disposed.
  static std::shared_ptr<const SnapshotImage> ImageOf(Napi::Env env, Napi::Value value, const char* method);

  // mapSnapshotFile(fd, offset, size): a SnapshotMemory over `size` bytes of
  // the regular file open as `fd`, from byte `offset`. Exported by the addon.
  static Napi::Value MapFile(const Napi::CallbackInfo& info);

 private:
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value Read(const Napi::CallbackInfo& info);  // pread
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<const SnapshotImage> image_;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_SNAPSHOT_MEMORY_H_
