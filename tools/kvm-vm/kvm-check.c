// Minimal /dev/kvm smoke test: boots a 3-instruction real-mode guest
//   mov al, 0x42 ; out 0x10, al ; hlt
// and checks that KVM_RUN exits with KVM_EXIT_IO on port 0x10 carrying 0x42.
// Prints timings for each step. Exit status 0 on success.
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE 0x10000 /* 64 KiB */
#define CODE_ADDR 0x1000

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define CHECK(cond, what)                 \
  do {                                    \
    if (!(cond)) {                        \
      perror(what);                       \
      return 1;                           \
    }                                     \
  } while (0)

int main(void) {
  double t0 = now_ms();
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  CHECK(kvm >= 0, "open /dev/kvm");

  int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
  CHECK(api == KVM_API_VERSION, "KVM_GET_API_VERSION");

  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  CHECK(vm >= 0, "KVM_CREATE_VM");
  double t_vm = now_ms();

  uint8_t *mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(mem != MAP_FAILED, "mmap guest memory");
  static const uint8_t code[] = {0xb0, 0x42,  // mov al, 0x42
                                 0xe6, 0x10,  // out 0x10, al
                                 0xf4};       // hlt
  memcpy(mem + CODE_ADDR, code, sizeof code);

  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
      .userspace_addr = (uint64_t)(uintptr_t)mem};
  CHECK(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) == 0,
        "KVM_SET_USER_MEMORY_REGION");

  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  CHECK(vcpu >= 0, "KVM_CREATE_VCPU");
  int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  CHECK(run_size > 0, "KVM_GET_VCPU_MMAP_SIZE");
  struct kvm_run *run =
      mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  CHECK(run != MAP_FAILED, "mmap kvm_run");

  struct kvm_sregs sregs;
  CHECK(ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0, "KVM_GET_SREGS");
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  CHECK(ioctl(vcpu, KVM_SET_SREGS, &sregs) == 0, "KVM_SET_SREGS");
  struct kvm_regs regs = {.rip = CODE_ADDR, .rflags = 0x2};
  CHECK(ioctl(vcpu, KVM_SET_REGS, &regs) == 0, "KVM_SET_REGS");
  double t_setup = now_ms();

  int saw_io = 0;
  for (;;) {
    CHECK(ioctl(vcpu, KVM_RUN, 0) == 0, "KVM_RUN");
    if (run->exit_reason == KVM_EXIT_IO) {
      uint8_t val = *((uint8_t *)run + run->io.data_offset);
      if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != 0x10 ||
          run->io.size != 1 || val != 0x42) {
        fprintf(stderr, "unexpected IO exit: port=0x%x size=%u val=0x%x\n",
                run->io.port, run->io.size, val);
        return 1;
      }
      saw_io = 1;
    } else if (run->exit_reason == KVM_EXIT_HLT) {
      break;
    } else {
      fprintf(stderr, "unexpected exit reason %u\n", run->exit_reason);
      return 1;
    }
  }
  double t_run = now_ms();
  if (!saw_io) {
    fprintf(stderr, "guest halted without KVM_EXIT_IO\n");
    return 1;
  }
  printf("kvm-check OK: api=%d, out 0x10 <- 0x42, then hlt\n", api);
  printf("kvm-check timing: open+create_vm %.2f ms, setup %.2f ms, "
         "run %.2f ms, total %.2f ms\n",
         t_vm - t0, t_setup - t_vm, t_run - t_setup, t_run - t0);
  return 0;
}
