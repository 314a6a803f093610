// Restore and snapshot costs of guest memory, with the addon's own code
// (src/native/memory_image.cc). Pure memory management: needs no /dev/kvm.
//   node bench/restore.mjs [iterations]      (compiles this file, then runs it)
//
// A 64 MiB region is mapped MAP_PRIVATE over a sealed memfd snapshot whose
// first 8 MiB hold data. Each iteration reads a working set (those 2048
// pages, as a guest reads its code and data), dirties N pages spread over the
// region, and restores with one strategy:
//   whole-dontneed  MADV_DONTNEED over all 64 MiB
//   remap           mmap(MAP_FIXED | MAP_PRIVATE) of the snapshot again
//   pagemap-read    pread /proc/self/pagemap, then MADV_DONTNEED per range of
//                   private pages (ranges joined across unmapped gaps)
//   pagemap-scan    the same with ioctl(PAGEMAP_SCAN) (Linux 6.7+)
//   ..., process_madvise   the ranges discarded in one process_madvise(2)
//                   call (Linux 6.13+), which recent kernels do under one TLB flush
// "+reread" adds reading the working set again afterwards: the strategies
// that drop read-only pages pay here what a guest pays in refaults (under
// KVM each refault is also an EPT/NPT violation exit).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "memory_image.h"

using namespace hyperlight_native;

namespace {

constexpr size_t kRegionSize = 64 << 20;
constexpr size_t kRegionPages = kRegionSize / kPageSize;
constexpr size_t kDataPages = 2048;  // 8 MiB of data in the snapshot, also the working set

double NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

void Check(const SysStatus& status, const char* what) {
  if (!status.ok()) {
    fprintf(stderr, "%s: %s: %s\n", what, status.syscall, strerror(status.err));
    exit(1);
  }
}

struct Stats {
  double min;
  double median;
};

Stats Summarize(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples.front(), samples[samples.size() / 2]};
}

// A sealed memfd of kRegionSize bytes whose first kDataPages pages hold data.
int MakeSnapshot() {
  int fd = memfd_create("bench-snapshot", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  Check(fd >= 0, "memfd_create");
  Check(ftruncate(fd, kRegionSize) == 0, "ftruncate");
  std::vector<uint8_t> page(kPageSize);
  for (size_t i = 0; i < kDataPages; i++) {
    memset(page.data(), static_cast<int>(i % 251 + 1), kPageSize);
    Check(pwrite(fd, page.data(), kPageSize, static_cast<off_t>(i * kPageSize)) == kPageSize, "pwrite");
  }
  Check(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_ADD_SEALS");
  return fd;
}

void MapPrivate(uint8_t* address, int fd) {
  void* mapped = mmap(address, kRegionSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0);
  Check(mapped == address, "mmap");
}

volatile uint8_t sink;

void ReadWorkingSet(const uint8_t* region) {
  uint8_t sum = 0;
  for (size_t i = 0; i < kDataPages; i++) sum += region[i * kPageSize];
  sink = sum;
}

// Dirties `count` pages, about half inside the working set and half spread
// over the rest (multiplicative walks, so few are adjacent).
void Dirty(uint8_t* region, size_t count, unsigned seed) {
  for (size_t i = 0; i < count; i++) {
    size_t page = i % 2 == 0 ? (seed * 7919 + i * 40503) % kDataPages
                             : kDataPages + (seed * 7919 + i * 40503) % (kRegionPages - kDataPages);
    region[page * kPageSize + 17] ^= 0x5a;
  }
}

// Checks every page (which maps them all: remap afterwards).
void Verify(const uint8_t* region) {
  for (size_t i = 0; i < kRegionPages; i++) {
    uint8_t expected = i < kDataPages ? static_cast<uint8_t>(i % 251 + 1) : 0;
    if (region[i * kPageSize + 17] != expected) {
      fprintf(stderr, "restore left page %zu wrong\n", i);
      exit(1);
    }
  }
}

void PrintRow(const char* name, Stats stats) {
  printf("| %-58s | %10.1f | %10.1f |\n", name, stats.min, stats.median);
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? atoi(argv[1]) : 50;
  const int snapshot_fd = MakeSnapshot();
  // What the addon records when it makes an image (SnapshotImage::data_pages).
  PageRuns snapshot_data;
  Check(FindDataPages(FileWindow{snapshot_fd, 0, kRegionSize}, &snapshot_data), "FindDataPages");
  void* reserved = mmap(nullptr, kRegionSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  Check(reserved != MAP_FAILED, "mmap");
  auto* region = static_cast<uint8_t*>(reserved);
  MapPrivate(region, snapshot_fd);

  struct Strategy {
    const char* name;
    std::function<void()> restore;
  };
  auto scan_and_discard = [&](PageScanMethod method, DiscardMethod discard) {
    PageRuns runs;
    Check(FindDiscardRanges(region, kRegionSize, &runs, method), "FindDiscardRanges");
    Check(DiscardPages(region, runs, discard), "DiscardPages");
  };
  std::vector<Strategy> strategies = {
      {"whole-dontneed", [&] { Check(madvise(region, kRegionSize, MADV_DONTNEED) == 0, "madvise"); }},
      {"remap", [&] { MapPrivate(region, snapshot_fd); }},
      {"pagemap-read", [&] { scan_and_discard(PageScanMethod::kPagemapRead, DiscardMethod::kMadvise); }},
  };
  if (HavePagemapScan()) {
    strategies.push_back(
        {"pagemap-scan", [&] { scan_and_discard(PageScanMethod::kPagemapScan, DiscardMethod::kMadvise); }});
  } else {
    printf("(this kernel has no PAGEMAP_SCAN: pagemap-scan rows are left out)\n");
  }
  // Probe process_madvise(MADV_DONTNEED) on two private pages.
  region[0] ^= 1;
  region[2 * kPageSize] ^= 1;
  if (DiscardPages(region, {{0, 1}, {2, 1}}, DiscardMethod::kProcessMadvise).ok()) {
    strategies.push_back({HavePagemapScan() ? "pagemap-scan, process_madvise" : "pagemap-read, process_madvise",
                          [&] { scan_and_discard(PageScanMethod::kAuto, DiscardMethod::kProcessMadvise); }});
  } else {
    printf("(this kernel refuses process_madvise(MADV_DONTNEED): its rows are left out)\n");
  }
  MapPrivate(region, snapshot_fd);

  printf("64 MiB region, 8 MiB working set, %d iterations; microseconds\n\n", iterations);
  printf("| %-58s | %10s | %10s |\n", "what", "min", "median");
  printf("|%s|%s|%s|\n", std::string(60, '-').c_str(), std::string(12, '-').c_str(), std::string(12, '-').c_str());
  for (size_t dirty : {1, 16, 256}) {
    for (const Strategy& strategy : strategies) {
      std::vector<double> restore;
      std::vector<double> with_reread;
      for (int i = 0; i < iterations; i++) {
        ReadWorkingSet(region);
        Dirty(region, dirty, static_cast<unsigned>(i));
        double start = NowUs();
        strategy.restore();
        double restored = NowUs();
        ReadWorkingSet(region);
        double reread = NowUs();
        restore.push_back(restored - start);
        with_reread.push_back(reread - start);
      }
      Dirty(region, dirty, 12345);
      strategy.restore();
      Verify(region);
      MapPrivate(region, snapshot_fd);
      std::string name = std::string("restore, ") + std::to_string(dirty) + " dirty, " + strategy.name;
      PrintRow(name.c_str(), Summarize(restore));
      PrintRow((name + " +reread").c_str(), Summarize(with_reread));
    }
  }

  // snapshot(): find private pages, copy data + private pages into a new
  // sealed memfd, map the region copy-on-write over it.
  for (size_t dirty : {16, 256}) {
    std::vector<double> samples;
    for (int i = 0; i < iterations; i++) {
      MapPrivate(region, snapshot_fd);
      ReadWorkingSet(region);
      Dirty(region, dirty, static_cast<unsigned>(i));
      double start = NowUs();
      PageRuns runs;
      Check(FindPrivatePages(region, kRegionSize, &runs), "FindPrivatePages");
      int image = memfd_create("bench-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
      Check(image >= 0 && ftruncate(image, kRegionSize) == 0, "memfd_create");
      PageRuns written;
      Check(WriteImage(region, FileWindow{snapshot_fd, 0, kRegionSize}, snapshot_data, runs, image, &written),
            "WriteImage");
      Check(fcntl(image, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0, "F_ADD_SEALS");
      MapPrivate(region, image);
      samples.push_back(NowUs() - start);
      close(image);  // the mapping keeps the file
    }
    std::string name = std::string("snapshot, 8 MiB data + ") + std::to_string(dirty) + " dirty pages";
    PrintRow(name.c_str(), Summarize(samples));
  }

  std::vector<uint8_t> from(kRegionSize, 1);
  std::vector<uint8_t> to(kRegionSize, 2);
  std::vector<double> copies;
  for (int i = 0; i < iterations; i++) {
    double start = NowUs();
    memcpy(to.data(), from.data(), kRegionSize);
    copies.push_back(NowUs() - start);
    sink = to[static_cast<size_t>(i) * kPageSize];
  }
  PrintRow("memcpy of all 64 MiB (both buffers resident)", Summarize(copies));
  return 0;
}
