// Page-level memory management behind snapshots, free of Node-API so that
// bench/restore.cc times exactly the code the addon runs.
//
// Vocabulary: a *window* is a byte range of a file that backs guest memory (a
// GuestMemory's own memfd, a sealed snapshot memfd, or a snapshot file on
// disk). A mapping of a window with MAP_PRIVATE reads the file until a page is
// written; the write copies the page into an anonymous page *private* to the
// mapping (Linux mm/memory.c, wp_page_copy). Private pages are exactly what
// differs from the window, and the kernel, not the guest, records which they
// are: /proc/self/pagemap says whether each page is anonymous.
#ifndef HYPERLIGHT_NATIVE_MEMORY_IMAGE_H_
#define HYPERLIGHT_NATIVE_MEMORY_IMAGE_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hyperlight_native {

inline constexpr size_t kPageSize = 4096;

// Consecutive pages [first, first + count), as page indices from the start
// of a mapping or window.
struct PageRun {
  size_t first;
  size_t count;
};
// Sorted, non-overlapping and non-adjacent (adjacent runs are merged).
using PageRuns = std::vector<PageRun>;

// A failed syscall: errno and the call's name (a string literal). err == 0 is success.
struct SysStatus {
  int err = 0;
  const char* syscall = nullptr;
  bool ok() const { return err == 0; }
};

// A page-aligned byte range of an open file.
struct FileWindow {
  int fd = -1;
  uint64_t offset = 0;
  size_t size = 0;
};

// How FindPrivatePages asks the kernel.
enum class PageScanMethod {
  kAuto,         // PAGEMAP_SCAN when the kernel has it, else kPagemapRead
  kPagemapScan,  // ioctl(PAGEMAP_SCAN) on /proc/self/pagemap (Linux 6.7+): only matching runs come back
  kPagemapRead,  // pread of /proc/self/pagemap: 8 bytes per page
};

// Whether the running kernel answers PAGEMAP_SCAN (asked once per process).
bool HavePagemapScan();

// Appends to `runs` the pages of [address, address + size) that are private
// to this process's mapping: present or swapped, and not file-backed (pagemap
// bit 61 clear). Under MAP_PRIVATE these are the pages written since the
// mapping was made; under MAP_SHARED there are none. `address` and `size` are
// page-aligned.
SysStatus FindPrivatePages(const uint8_t* address, size_t size, PageRuns* runs,
                           PageScanMethod method = PageScanMethod::kAuto);

// Like FindPrivatePages, but joins private runs separated only by unmapped
// pages (no PTE): the fewest ranges whose MADV_DONTNEED discards every
// private page and unmaps no file page. Runs may then include pages that
// are neither.
SysStatus FindDiscardRanges(const uint8_t* address, size_t size, PageRuns* runs,
                            PageScanMethod method = PageScanMethod::kAuto);

// Appends to `runs` the pages of `window` that may hold data: the file's
// SEEK_DATA extents, widened to whole pages. Holes (never-written pages of a
// sparse file or memfd) read as zeros and are left out.
SysStatus FindDataPages(const FileWindow& window, PageRuns* runs);

// The union of two run lists.
PageRuns UnionRuns(const PageRuns& a, const PageRuns& b);

// Number of pages in `runs`.
size_t PageCount(const PageRuns& runs);

// Writes into `out_fd` (already `base.size` bytes long and all holes) the
// current contents of a mapping of `base` at `mapping`: pages in
// `private_pages` are read from the mapping, other pages in `base_data` (the
// pages of `base` that may hold data) from `base.fd` with pread, which faults
// nothing in; every other page is zero. All-zero pages are not written, so
// they stay holes; `written` receives the pages that were.
SysStatus WriteImage(const uint8_t* mapping, const FileWindow& base, const PageRuns& base_data,
                     const PageRuns& private_pages, int out_fd, PageRuns* written);

// How DiscardPages asks the kernel.
enum class DiscardMethod {
  kAuto,            // kProcessMadvise when the kernel allows it, else kMadvise
  kProcessMadvise,  // process_madvise(2) on this process, up to 1024 runs per call; recent
                    // kernels flush the TLB once per call (MADV_DONTNEED on oneself: Linux 6.13+)
  kMadvise,         // one madvise(2), and one TLB flush, per run
};

// MADV_DONTNEED on every run of the mapping at `address`: under MAP_PRIVATE
// the file's contents come back on the next access (madvise(2)).
SysStatus DiscardPages(uint8_t* address, const PageRuns& runs, DiscardMethod method = DiscardMethod::kAuto);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_MEMORY_IMAGE_H_
