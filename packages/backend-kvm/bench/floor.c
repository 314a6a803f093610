// The raw-KVM floor for bench/run-loop.mjs: the same guest and the same loops
// in plain C with direct ioctls, so the addon's overhead shows as a ratio.
//   gcc -O2 -o floor floor.c && ./floor [iterations]
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void check(int ok, const char *what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(const char *label, double *t, int n) {
  qsort(t, n, sizeof *t, cmp);
  printf("%8.2f us median  %8.2f us min  %s\n", t[n / 2], t[0], label);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  check(kvm >= 0, "open /dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  check(vm >= 0, "KVM_CREATE_VM");
  size_t size = 0x10000;
  uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  // 0x1000: out 0x10, al; jmp 0x1000
  const uint8_t code[] = {0xe6, 0x10, 0xeb, 0xfc};
  memcpy(mem + 0x1000, code, sizeof code);
  struct kvm_userspace_memory_region region = {.slot = 0, .guest_phys_addr = 0, .memory_size = size,
                                               .userspace_addr = (uint64_t)mem};
  check(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0, "KVM_SET_USER_MEMORY_REGION");
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  check(vcpu >= 0, "KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  struct kvm_sregs sregs;
  check(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  check(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = 0x1000, .rflags = 2};
  check(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");

  double *t = calloc(n, sizeof *t);
  // (a) resume after an `out` exit (what a host-function call costs)
  for (int i = 0; i < n + 100; i++) {
    double t0 = now_us();
    check(ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO, "KVM_RUN (a)");
    if (i >= 100) t[i - 100] = now_us() - t0;
  }
  report("resume: KVM_RUN to the next `out` exit", t, n);
  // (b) fresh entry: registers through sync_regs, then KVM_RUN (what a guest call costs)
  run->kvm_valid_regs = KVM_SYNC_X86_REGS;
  for (int i = 0; i < n + 100; i++) {
    double t0 = now_us();
    memset(&run->s.regs.regs, 0, sizeof run->s.regs.regs);
    run->s.regs.regs.rip = 0x1000;
    run->s.regs.regs.rflags = 2;
    run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
    check(ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO, "KVM_RUN (b)");
    if (i >= 100) t[i - 100] = now_us() - t0;
  }
  report("entry: sync_regs + KVM_RUN to the `out` exit", t, n);
  // (c) the same entry with KVM_SET_REGS instead of sync_regs
  run->kvm_valid_regs = 0;
  for (int i = 0; i < n + 100; i++) {
    double t0 = now_us();
    struct kvm_regs r = {.rip = 0x1000, .rflags = 2};
    check(ioctl(vcpu, KVM_SET_REGS, &r) == 0, "KVM_SET_REGS");
    check(ioctl(vcpu, KVM_RUN, 0) == 0 && run->exit_reason == KVM_EXIT_IO, "KVM_RUN (c)");
    if (i >= 100) t[i - 100] = now_us() - t0;
  }
  report("entry: KVM_SET_REGS + KVM_RUN to the `out` exit", t, n);
  return 0;
}
