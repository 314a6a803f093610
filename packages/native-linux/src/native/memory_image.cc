#include "memory_image.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "unique_fd.h"

namespace hyperlight_native {

namespace {

// PAGEMAP_SCAN, restated from Linux 6.7's include/uapi/linux/fs.h because the
// build machine's headers may be older than the kernel that runs the addon.
struct PageRegion {
  uint64_t start;
  uint64_t end;
  uint64_t categories;
};
struct PmScanArg {
  uint64_t size;
  uint64_t flags;
  uint64_t start;
  uint64_t end;
  uint64_t walk_end;
  uint64_t vec;
  uint64_t vec_len;
  uint64_t max_pages;
  uint64_t category_inverted;
  uint64_t category_mask;
  uint64_t category_anyof_mask;
  uint64_t return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
static_assert(sizeof(PmScanArg) == 96 && kPagemapScan == 0xc0606610, "PAGEMAP_SCAN as in Linux 6.7");
constexpr uint64_t kPageIsFile = 1 << 2;
constexpr uint64_t kPageIsPresent = 1 << 3;
constexpr uint64_t kPageIsSwapped = 1 << 4;

// /proc/pid/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
// Unprivileged readers get these flags; only the PFN bits read as zero.
constexpr uint64_t kPagemapPresent = 1ULL << 63;
constexpr uint64_t kPagemapSwapped = 1ULL << 62;
constexpr uint64_t kPagemapFileOrSharedAnon = 1ULL << 61;

constexpr size_t kPagemapChunkEntries = 4096;  // 32 KiB of entries per pread
constexpr size_t kScanRegions = 128;           // page_region results per PAGEMAP_SCAN call
constexpr size_t kCopyChunkPages = 256;        // 1 MiB per pread when copying from a file

// -1 unknown, 0 no, 1 yes.
std::atomic<int> pagemap_scan_support{-1};

void AppendRun(PageRuns* runs, size_t first, size_t count) {
  if (count == 0) return;
  if (!runs->empty() && runs->back().first + runs->back().count == first) {
    runs->back().count += count;
  } else {
    runs->push_back({first, count});
  }
}

SysStatus Failed(const char* syscall) { return SysStatus{errno, syscall}; }

// /proc/self/pagemap is opened per call rather than cached: a cached fd would
// name the parent's pagemap in a forked child, and the open costs a few
// microseconds next to the page-table walk (bench/restore.cc).
SysStatus OpenPagemap(UniqueFd* fd) {
  fd->Reset(open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  return fd->Valid() ? SysStatus{} : Failed("open");
}

// ENOTTY/EINVAL: a kernel before 6.7 (no PAGEMAP_SCAN).
bool IsUnsupportedIoctl(int err) { return err == ENOTTY || err == EINVAL; }

// Receives, in address order, runs of pages that are present or swapped:
// `private_pages` says whether the run is anonymous (not file-backed).
class PresentPageSink {
 public:
  virtual ~PresentPageSink() = default;
  virtual void Add(size_t first, size_t count, bool private_pages) = 0;
};

SysStatus ScanWithIoctl(int pagemap, uintptr_t start, size_t size, PresentPageSink* sink) {
  PageRegion regions[kScanRegions];
  PmScanArg arg = {};
  arg.size = sizeof arg;
  arg.start = start;
  arg.end = start + size;
  arg.vec = reinterpret_cast<uint64_t>(regions);
  arg.vec_len = kScanRegions;
  // Every present or swapped page, in regions of equal FILE category
  // (fs/proc/task_mmu.c, pagemap_scan_is_interesting_page / pagemap_scan_output).
  // The kernel works out FILE only for masks that name it; return_mask does.
  arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
  arg.return_mask = kPageIsFile;
  while (true) {
    int count = ioctl(pagemap, kPagemapScan, &arg);
    if (count < 0) return Failed("ioctl(PAGEMAP_SCAN)");
    for (int i = 0; i < count; i++) {
      sink->Add((regions[i].start - start) / kPageSize, (regions[i].end - regions[i].start) / kPageSize,
                (regions[i].categories & kPageIsFile) == 0);
    }
    if (arg.walk_end >= start + size) break;
    // The walk stopped early because `regions` filled up; go on from there.
    // No progress would loop forever, and stopping would miss pages.
    if (arg.walk_end <= arg.start) return SysStatus{EIO, "ioctl(PAGEMAP_SCAN)"};
    arg.start = arg.walk_end;
  }
  return {};
}

SysStatus ScanWithRead(int pagemap, uintptr_t start, size_t size, PresentPageSink* sink) {
  const size_t pages = size / kPageSize;
  std::vector<uint64_t> entries(std::min(pages, kPagemapChunkEntries));
  for (size_t done = 0; done < pages;) {
    const size_t want = std::min(pages - done, entries.size());
    const off_t position = static_cast<off_t>((start / kPageSize + done) * sizeof(uint64_t));
    ssize_t got = pread(pagemap, entries.data(), want * sizeof(uint64_t), position);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Failed("pread(/proc/self/pagemap)");
    }
    if (got == 0) return SysStatus{EIO, "pread(/proc/self/pagemap)"};
    const size_t read_entries = static_cast<size_t>(got) / sizeof(uint64_t);
    for (size_t i = 0; i < read_entries; i++) {
      const uint64_t entry = entries[i];
      if ((entry & (kPagemapPresent | kPagemapSwapped)) != 0) {
        sink->Add(done + i, 1, (entry & kPagemapFileOrSharedAnon) == 0);
      }
    }
    done += read_entries;
  }
  return {};
}

SysStatus ScanPresentPages(const uint8_t* address, size_t size, PageScanMethod method, PresentPageSink* sink) {
  if (method == PageScanMethod::kAuto) {
    method = HavePagemapScan() ? PageScanMethod::kPagemapScan : PageScanMethod::kPagemapRead;
  }
  UniqueFd pagemap;
  SysStatus status = OpenPagemap(&pagemap);
  if (!status.ok()) return status;
  const auto start = reinterpret_cast<uintptr_t>(address);
  return method == PageScanMethod::kPagemapScan ? ScanWithIoctl(pagemap.Get(), start, size, sink)
                                                : ScanWithRead(pagemap.Get(), start, size, sink);
}

// Collects the private runs.
class PrivateRuns : public PresentPageSink {
 public:
  explicit PrivateRuns(PageRuns* runs) : runs_(runs) {}
  void Add(size_t first, size_t count, bool private_pages) override {
    if (private_pages) AppendRun(runs_, first, count);
  }

 private:
  PageRuns* runs_;
};

// Collects ranges that cover every private page, joining two private runs
// when no file page lies mapped between them: discarding the unmapped gap
// drops nothing, and one madvise (one TLB flush) replaces several.
class DiscardRanges : public PresentPageSink {
 public:
  explicit DiscardRanges(PageRuns* runs) : runs_(runs) {}
  void Add(size_t first, size_t count, bool private_pages) override {
    if (!private_pages) {
      file_page_since_last_run_ = true;
      return;
    }
    if (!runs_->empty() && !file_page_since_last_run_) {
      runs_->back().count = first + count - runs_->back().first;
    } else {
      runs_->push_back({first, count});
    }
    file_page_since_last_run_ = false;
  }

 private:
  PageRuns* runs_;
  bool file_page_since_last_run_ = false;
};

bool IsZeroPage(const uint8_t* page) {
  uint64_t words[8];
  for (size_t offset = 0; offset < kPageSize; offset += sizeof words) {
    memcpy(words, page + offset, sizeof words);
    if ((words[0] | words[1] | words[2] | words[3] | words[4] | words[5] | words[6] | words[7]) != 0) return false;
  }
  return true;
}

SysStatus WriteFully(int fd, const uint8_t* data, size_t size, off_t position) {
  while (size > 0) {
    ssize_t written = pwrite(fd, data, size, position);
    if (written < 0) {
      if (errno == EINTR) continue;
      return Failed("pwrite");
    }
    data += written;
    size -= static_cast<size_t>(written);
    position += written;
  }
  return {};
}

SysStatus ReadFully(int fd, uint8_t* data, size_t size, off_t position) {
  while (size > 0) {
    ssize_t got = pread(fd, data, size, position);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Failed("pread");
    }
    // The window was checked to lie inside the file; a shorter file means it
    // was truncated behind our back.
    if (got == 0) return SysStatus{EIO, "pread"};
    data += got;
    size -= static_cast<size_t>(got);
    position += got;
  }
  return {};
}

// Writes the non-zero pages of `pages` pages at `source` to page `first` of
// `out_fd`, and adds them to `written`.
SysStatus WriteNonZeroPages(int out_fd, const uint8_t* source, size_t first, size_t pages, PageRuns* written) {
  size_t page = 0;
  while (page < pages) {
    while (page < pages && IsZeroPage(source + page * kPageSize)) page++;
    size_t end = page;
    while (end < pages && !IsZeroPage(source + end * kPageSize)) end++;
    if (end > page) {
      SysStatus status = WriteFully(out_fd, source + page * kPageSize, (end - page) * kPageSize,
                                    static_cast<off_t>((first + page) * kPageSize));
      if (!status.ok()) return status;
      AppendRun(written, first + page, end - page);
    }
    page = end;
  }
  return {};
}

// -1 unknown, 0 no, 1 yes: whether process_madvise(MADV_DONTNEED) works on this process.
std::atomic<int> process_madvise_support{-1};
constexpr size_t kMaxIovecs = 1024;  // UIO_MAXIOV

// Discards runs with process_madvise, which recent kernels do under one TLB
// flush per call (Linux 6.18: 128 scattered pages ~45 us, against ~700 us
// with one madvise each; bench/restore.cc). Returns how many leading runs are done: all of them, or
// fewer when the kernel refuses, in which case the caller madvises the rest.
size_t DiscardInBatches(uint8_t* address, const PageRuns& runs) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0)));
  if (!pidfd.Valid()) return 0;
  iovec iovecs[kMaxIovecs];
  size_t done = 0;
  while (done < runs.size()) {
    const size_t count = std::min(kMaxIovecs, runs.size() - done);
    size_t bytes = 0;
    for (size_t i = 0; i < count; i++) {
      const PageRun& run = runs[done + i];
      iovecs[i].iov_base = address + run.first * kPageSize;
      iovecs[i].iov_len = run.count * kPageSize;
      bytes += iovecs[i].iov_len;
    }
    long advised = syscall(SYS_process_madvise, pidfd.Get(), iovecs, count, MADV_DONTNEED, 0);
    if (advised < 0 && (errno == EINVAL || errno == ENOSYS || errno == EPERM)) {
      // Before Linux 6.13 process_madvise takes only MADV_COLD, MADV_PAGEOUT,
      // MADV_WILLNEED and MADV_COLLAPSE.
      process_madvise_support.store(0, std::memory_order_relaxed);
      return done;
    }
    // A partial result leaves the batch to madvise(), which repeats harmlessly
    // what was already discarded.
    if (advised != static_cast<long>(bytes)) return done;
    process_madvise_support.store(1, std::memory_order_relaxed);
    done += count;
  }
  return done;
}

}  // namespace

bool HavePagemapScan() {
  int known = pagemap_scan_support.load(std::memory_order_relaxed);
  if (known >= 0) return known == 1;
  UniqueFd pagemap;
  if (!OpenPagemap(&pagemap).ok()) return false;
  // An empty range: a kernel with PAGEMAP_SCAN answers 0 regions.
  PmScanArg arg = {};
  arg.size = sizeof arg;
  int supported = ioctl(pagemap.Get(), kPagemapScan, &arg) >= 0 || !IsUnsupportedIoctl(errno) ? 1 : 0;
  pagemap_scan_support.store(supported, std::memory_order_relaxed);
  return supported == 1;
}

SysStatus FindPrivatePages(const uint8_t* address, size_t size, PageRuns* runs, PageScanMethod method) {
  PrivateRuns sink(runs);
  return ScanPresentPages(address, size, method, &sink);
}

SysStatus FindDiscardRanges(const uint8_t* address, size_t size, PageRuns* runs, PageScanMethod method) {
  DiscardRanges sink(runs);
  return ScanPresentPages(address, size, method, &sink);
}

SysStatus FindDataPages(const FileWindow& window, PageRuns* runs) {
  const auto begin = static_cast<off_t>(window.offset);
  const auto end = static_cast<off_t>(window.offset + window.size);
  off_t position = begin;
  while (position < end) {
    // lseek with SEEK_DATA/SEEK_HOLE returns the answer; the file offset it
    // also moves is never relied on (the fd may be shared between threads).
    off_t data = lseek(window.fd, position, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data at or after `position`
      return Failed("lseek(SEEK_DATA)");
    }
    if (data >= end) break;
    off_t hole = lseek(window.fd, data, SEEK_HOLE);
    if (hole < 0) return Failed("lseek(SEEK_HOLE)");
    hole = std::min(hole, end);
    const size_t first = static_cast<size_t>(data - begin) / kPageSize;
    const size_t last = (static_cast<size_t>(hole - begin) + kPageSize - 1) / kPageSize;
    if (!runs->empty() && runs->back().first + runs->back().count > first) {
      // Extents that share a page: widen the previous run instead.
      PageRun& previous = runs->back();
      previous.count = std::max(previous.first + previous.count, last) - previous.first;
    } else {
      AppendRun(runs, first, last - first);
    }
    position = hole;
  }
  return {};
}

PageRuns UnionRuns(const PageRuns& a, const PageRuns& b) {
  PageRuns merged;
  merged.reserve(a.size() + b.size());
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    const PageRun& next = j >= b.size() || (i < a.size() && a[i].first <= b[j].first) ? a[i++] : b[j++];
    if (!merged.empty() && merged.back().first + merged.back().count >= next.first) {
      PageRun& last = merged.back();
      last.count = std::max(last.first + last.count, next.first + next.count) - last.first;
    } else {
      merged.push_back(next);
    }
  }
  return merged;
}

size_t PageCount(const PageRuns& runs) {
  size_t count = 0;
  for (const PageRun& run : runs) count += run.count;
  return count;
}

SysStatus WriteImage(const uint8_t* mapping, const FileWindow& base, const PageRuns& base_data,
                     const PageRuns& private_pages, int out_fd, PageRuns* written) {
  std::vector<uint8_t> buffer;
  size_t next_private = 0;
  for (const PageRun& run : UnionRuns(base_data, private_pages)) {
    // Split the run into stretches that are private (read from the mapping)
    // or not (read from the file, so nothing is faulted into the mapping).
    size_t page = run.first;
    const size_t end = run.first + run.count;
    while (page < end) {
      while (next_private < private_pages.size() &&
             private_pages[next_private].first + private_pages[next_private].count <= page) {
        next_private++;
      }
      const PageRun* next = next_private < private_pages.size() ? &private_pages[next_private] : nullptr;
      SysStatus status;
      if (next != nullptr && next->first <= page) {
        const size_t stop = std::min(end, next->first + next->count);
        // SAFETY: [page, stop) lies inside the mapping, which the caller keeps mapped.
        status = WriteNonZeroPages(out_fd, mapping + page * kPageSize, page, stop - page, written);
        page = stop;
      } else {
        const size_t stop = std::min({end, next != nullptr ? next->first : end, page + kCopyChunkPages});
        if (buffer.empty()) buffer.resize(kCopyChunkPages * kPageSize);
        status = ReadFully(base.fd, buffer.data(), (stop - page) * kPageSize,
                           static_cast<off_t>(base.offset + page * kPageSize));
        if (status.ok()) status = WriteNonZeroPages(out_fd, buffer.data(), page, stop - page, written);
        page = stop;
      }
      if (!status.ok()) return status;
    }
  }
  return {};
}

SysStatus DiscardPages(uint8_t* address, const PageRuns& runs, DiscardMethod method) {
  size_t done = 0;
  if (method != DiscardMethod::kMadvise && runs.size() > 1 &&
      process_madvise_support.load(std::memory_order_relaxed) != 0) {
    done = DiscardInBatches(address, runs);
    if (method == DiscardMethod::kProcessMadvise && done < runs.size()) {
      return SysStatus{process_madvise_support.load() == 0 ? EOPNOTSUPP : EIO, "process_madvise"};
    }
  }
  for (size_t i = done; i < runs.size(); i++) {
    const PageRun& run = runs[i];
    // SAFETY: the runs come from a scan of this mapping and lie inside it.
    if (madvise(address + run.first * kPageSize, run.count * kPageSize, MADV_DONTNEED) < 0) {
      return Failed("madvise(MADV_DONTNEED)");
    }
  }
  return {};
}

}  // namespace hyperlight_native
