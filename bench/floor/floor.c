// The raw-KVM floor: what the operations the bench times cost with direct
// ioctls, no addon, no JavaScript and no library, measured in the same run
// as the bench so that each of our figures can be read as a ratio to it.
//
// The guest is set up the way packages/core sets up a sandbox (docs/abi.md,
// "Memory map" and "GDT and TSS"): 64-bit long mode with 4-level paging, CR0
// PE|MP|ET|NE|WP|PG, CR4 PAE|OSFXSR|OSXMMEXCPT (+OSXSAVE when XCR0 is set),
// EFER LME|LMA|NXE, a GDT with flat ring-0 and ring-3 code/data segments and
// a 64-bit TSS whose I/O permission bitmap grants the two exit ports (IOPL
// stays 0: some hypervisors ignore IOPL at CPL3), guest code at CPL3 on a
// user page, and a TR type of "available" on AMD (QEMU's emulated SVM honours
// the bitmap only for that) and "busy" elsewhere (VMX refuses anything else).
// Guest memory is a sealed memfd mapped MAP_SHARED, as the backend's is;
// /dev/kvm and KVM's supported CPUID are opened and read once per process.
// Only the pages the guest uses are mapped: the floor for paging is one table
// of each level, where our layout maps every page of guest memory.
//
// Measurements (every sample in microseconds, CLOCK_MONOTONIC):
//
//   create, per guest memory size: memfd + mmap of the memory, KVM_CREATE_VM,
//     KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU + mmap of kvm_run,
//     KVM_SET_CPUID2 (a minimal table), KVM_SET_XCRS (when KVM offers XSAVE),
//     page tables, GDT, TSS and code written, special and general registers
//     staged through sync_regs (KVM_SET_SREGS where KVM cannot sync them),
//     then KVM_RUN to the first `out` ("toFirstExitUs"); then munmap and close
//     of everything ("teardownUs"); "totalUs" spans both. The floor for
//     creating a sandbox up to the end of its initialisation, and for
//     disposing of it.
//   roundTripUs: KVM_RUN resuming a guest that loops on `out` to the call-host
//     port, to its next exit. The floor for the exit every host-function call
//     costs (and any other exit the guest takes mid-call).
//   entryUs: general registers written to kvm_run's sync_regs (as the backend
//     does for every guest call: no KVM_SET_REGS), then KVM_RUN to the guest's
//     `out` to the halt port. The floor for one guest function call.
//   memcpy, per page count: memcpy of that many 4 KiB pages into a memfd
//     mapping that was already written (no page faults). The floor for
//     restoring or snapshotting memory by copying it.
//
// Every measurement runs its warmup iterations first, untimed. Output: one
// JSON object on stdout; errors go to stderr (naming the call that failed)
// with exit status 1, bad arguments with status 2.
//
//   gcc -O2 -o floor floor.c
//   ./floor [--warmup N] [--iterations N] [--create-warmup N] [--create-iterations N]
//           [--copy-warmup N] [--copy-iterations N] [--memory-size BYTES]... [--copy-pages N]...
// --warmup and --iterations count round trips and entries; the others, VMs
// created per memory size and copies per page count.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE 0x1000ULL

// Guest-physical map, identity-mapped (GVA = GPA). Page 0 stays unmapped.
#define PML4_GPA 0x1000ULL
#define PDPT_GPA 0x2000ULL
#define PD_GPA 0x3000ULL
#define PT_GPA 0x4000ULL
// GDT, IDT and TSS share one page, at the offsets core's layout uses.
#define SYSTEM_GPA 0x5000ULL
#define GDT_GPA (SYSTEM_GPA + 0x000)
#define IDT_GPA (SYSTEM_GPA + 0x100)
#define TSS_GPA (SYSTEM_GPA + 0x400)
#define CODE_GPA 0x6000ULL
#define STACK_GPA 0x7000ULL
#define EXCEPTION_STACK_GPA 0x8000ULL
// The smallest guest memory that holds all of the above.
#define MIN_MEMORY_SIZE 0x9000ULL
// Guest memory of the VM that round trips and entries run in; its size does
// not change what one exit costs.
#define HOT_VM_MEMORY_SIZE 0x10000ULL

// Paging-structure entry bits (SDM Vol. 3A §4.5).
#define PTE_PRESENT 0x1ULL
#define PTE_WRITABLE 0x2ULL
#define PTE_USER 0x4ULL
#define PTE_ACCESSED 0x20ULL
#define PTE_DIRTY 0x40ULL
#define PTE_EXECUTE_DISABLE (1ULL << 63)
// Non-leaf entries allow everything; the leaf decides (SDM Vol. 3A §4.6.1).
#define PTE_TABLE (PTE_PRESENT | PTE_WRITABLE | PTE_USER | PTE_ACCESSED)

// Selectors (schema/abi.json): index << 3 | RPL.
#define KERNEL_CODE_SELECTOR 0x08
#define KERNEL_DATA_SELECTOR 0x10
#define USER_DATA_SELECTOR 0x1b
#define USER_CODE_SELECTOR 0x23
#define TSS_SELECTOR 0x28
// Null, four flat segments, and the 16-byte TSS descriptor.
#define GDT_LIMIT (7 * 8 - 1)

// Descriptor types (SDM Vol. 3A Tables 3-1, 3-2). Accessed bits pre-set, as core does.
#define CODE_TYPE 0xb
#define DATA_TYPE 0x3
#define TSS_AVAILABLE_TYPE 0x9
#define TSS_BUSY_TYPE 0xb

// 64-bit TSS (SDM Vol. 3A Figure 8-11; Vol. 1 §19.5.2 for the I/O bitmap).
#define TSS_RSP0_OFFSET 0x04
#define TSS_IST1_OFFSET 0x24
#define TSS_IO_MAP_BASE_OFFSET 0x66
#define IO_BITMAP_OFFSET 0x68
// Ports 0x00-0xFF, one bit each; a 0xFF byte follows as the terminator.
#define IO_BITMAP_SIZE 32
#define TSS_LIMIT (IO_BITMAP_OFFSET + IO_BITMAP_SIZE)

// The exit ports (schema/abi.json): HALT ends a call, CALL_HOST calls a host function.
#define HALT_PORT 0x10
#define CALL_HOST_PORT 0x11

#define CR0_GUEST 0x80010033ULL  // PE | MP | ET | NE | WP | PG
#define CR4_GUEST 0x620ULL       // PAE | OSFXSR | OSXMMEXCPT
#define CR4_OSXSAVE (1ULL << 18)
#define EFER_GUEST 0xd00ULL      // LME | LMA | NXE
#define APIC_BASE_GUEST 0xfee00900ULL
#define RFLAGS_GUEST 0x2ULL      // IF clear, IOPL 0

// CPUID leaf 1 ECX.XSAVE; XCR0 bits enabled when supported: x87, SSE, AVX,
// and the AVX-512 opmask, ZMM_Hi256 and Hi16_ZMM components (as the backend).
#define CPUID_1_ECX_XSAVE (1U << 26)
#define XCR0_REQUIRED 0x3ULL
#define XCR0_ENABLED 0xe7ULL

// The guest, at CODE_GPA. A call enters at the `nop`: KVM completes an `out`
// on the next KVM_RUN by skipping it only when RIP still points at it (Linux
// arch/x86/kvm/x86.c, complete_fast_pio_out), so the entry point must not be
// the halt `out` itself, or every entry after the first would skip it.
static const uint8_t guest_code[] = {
    0x90,                  // +0: nop
    0xe6, HALT_PORT,       // +1: out HALT_PORT, al
    0xe6, CALL_HOST_PORT,  // +3: out CALL_HOST_PORT, al
    0xeb, 0xfc,            // +5: jmp +3
};
#define ENTRY_GVA CODE_GPA

#define MAX_LIST 32

// Untimed, then timed iterations of one kind of measurement.
struct iterations {
  int warmup;
  int timed;
};

struct options {
  struct iterations hot;
  struct iterations create;
  struct iterations copy;
  size_t memory_sizes[MAX_LIST];
  int memory_size_count;
  size_t copy_pages[MAX_LIST];
  int copy_pages_count;
};

// What every VM is created from; read from /dev/kvm once.
struct host {
  int kvm;
  size_t run_size;
  bool sync_sregs;
  bool available_tss;
  struct kvm_cpuid2 *cpuid;
  // 0 when XSAVE is not offered (or KVM refused XCR0 once).
  uint64_t xcr0;
  struct kvm_sregs sregs;
};

struct vm {
  int memfd;
  uint8_t *memory;
  size_t memory_size;
  int vm;
  int vcpu;
  struct kvm_run *run;
};

struct create_samples {
  double *total;
  double *to_first_exit;
  double *teardown;
};

static void fail(const char *what) {
  fprintf(stderr, "floor: %s failed: %s\n", what, strerror(errno));
  exit(1);
}

static void failf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fputs("floor: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  exit(1);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static double *samples(int n) {
  double *array = calloc((size_t)n, sizeof *array);
  if (array == NULL) fail("calloc");
  return array;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm) {
  for (uint32_t capacity = 256; capacity <= 4096; capacity *= 2) {
    struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + capacity * sizeof cpuid->entries[0]);
    if (cpuid == NULL) fail("calloc");
    cpuid->nent = capacity;
    if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0) return cpuid;
    if (errno != E2BIG) fail("KVM_GET_SUPPORTED_CPUID");
    free(cpuid);
  }
  errno = E2BIG;
  fail("KVM_GET_SUPPORTED_CPUID");
  return NULL;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *cpuid, uint32_t function, uint32_t index) {
  for (uint32_t i = 0; i < cpuid->nent; i++) {
    if (cpuid->entries[i].function == function && cpuid->entries[i].index == index) return &cpuid->entries[i];
  }
  return NULL;
}

// A minimal table: vendor, feature bits, XSAVE layout and address sizes. The
// host's identity (brand, model, caches, topology) and KVM's own leaves go.
static struct kvm_cpuid2 *guest_cpuid(const struct kvm_cpuid2 *supported) {
  static const uint32_t kept[] = {0x0, 0x1, 0x7, 0xd, 0x80000000, 0x80000001, 0x80000008};
  struct kvm_cpuid2 *cpuid = calloc(1, sizeof *cpuid + supported->nent * sizeof cpuid->entries[0]);
  if (cpuid == NULL) fail("calloc");
  for (uint32_t i = 0; i < supported->nent; i++) {
    struct kvm_cpuid_entry2 entry = supported->entries[i];
    for (size_t k = 0; k < sizeof kept / sizeof kept[0]; k++) {
      if (entry.function != kept[k]) continue;
      if (entry.function == 0x0 && entry.eax > 0xd) entry.eax = 0xd;
      if (entry.function == 0x80000000 && entry.eax > 0x80000008) entry.eax = 0x80000008;
      cpuid->entries[cpuid->nent++] = entry;
    }
  }
  return cpuid;
}

// Intel VMX requires a busy TSS in TR at VM entry; SVM does not check, and
// QEMU's emulation of it checks the I/O bitmap only for an available one.
static bool is_amd(const struct kvm_cpuid2 *cpuid) {
  const struct kvm_cpuid_entry2 *leaf0 = find_leaf(cpuid, 0, 0);
  if (leaf0 == NULL) return false;
  char vendor[13];
  memcpy(vendor, &leaf0->ebx, 4);
  memcpy(vendor + 4, &leaf0->edx, 4);
  memcpy(vendor + 8, &leaf0->ecx, 4);
  vendor[12] = '\0';
  return strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0;
}

static uint64_t supported_xcr0(int kvm, const struct kvm_cpuid2 *cpuid) {
  const struct kvm_cpuid_entry2 *leaf1 = find_leaf(cpuid, 1, 0);
  const struct kvm_cpuid_entry2 *xstate = find_leaf(cpuid, 0xd, 0);
  if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) return 0;
  if (leaf1 == NULL || xstate == NULL || (leaf1->ecx & CPUID_1_ECX_XSAVE) == 0) return 0;
  uint64_t xcr0 = (((uint64_t)xstate->edx << 32) | xstate->eax) & XCR0_ENABLED;
  return (xcr0 & XCR0_REQUIRED) == XCR0_REQUIRED ? xcr0 : 0;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type, uint8_t dpl, bool code) {
  return (struct kvm_segment){
      .base = 0, .limit = 0xffffffff, .selector = selector, .type = type, .present = 1,
      .dpl = dpl, .db = !code, .s = 1, .l = code, .g = 1,
  };
}

// The special registers of a guest entry at CPL3 (core's special-registers.ts).
static struct kvm_sregs guest_sregs(bool available_tss) {
  struct kvm_segment data = flat_segment(USER_DATA_SELECTOR, DATA_TYPE, 3, false);
  return (struct kvm_sregs){
      .cs = flat_segment(USER_CODE_SELECTOR, CODE_TYPE, 3, true),
      .ds = data, .es = data, .fs = data, .gs = data, .ss = data,
      .tr = {.base = TSS_GPA, .limit = TSS_LIMIT, .selector = TSS_SELECTOR,
             .type = available_tss ? TSS_AVAILABLE_TYPE : TSS_BUSY_TYPE, .present = 1},
      .ldt = {.unusable = 1},
      .gdt = {.base = GDT_GPA, .limit = GDT_LIMIT},
      // No IDT entries: the guest takes no exception, and one would
      // triple-fault into KVM_EXIT_SHUTDOWN, which is reported as an error.
      .idt = {.base = IDT_GPA, .limit = 0},
      .cr0 = CR0_GUEST, .cr3 = PML4_GPA, .cr4 = CR4_GUEST,
      .efer = EFER_GUEST, .apic_base = APIC_BASE_GUEST,
  };
}

static void open_host(struct host *host) {
  host->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (host->kvm < 0) fail("open /dev/kvm");
  int version = ioctl(host->kvm, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) failf("KVM_GET_API_VERSION is %d, need %d", version, KVM_API_VERSION);
  int sync = ioctl(host->kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
  if (sync < 0 || (sync & KVM_SYNC_X86_REGS) == 0) failf("KVM_CAP_SYNC_REGS lacks KVM_SYNC_X86_REGS");
  host->sync_sregs = (sync & KVM_SYNC_X86_SREGS) != 0;
  int run_size = ioctl(host->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (run_size < 0) fail("KVM_GET_VCPU_MMAP_SIZE");
  host->run_size = (size_t)run_size;
  struct kvm_cpuid2 *supported = supported_cpuid(host->kvm);
  host->cpuid = guest_cpuid(supported);
  host->available_tss = is_amd(supported);
  host->xcr0 = supported_xcr0(host->kvm, supported);
  host->sregs = guest_sregs(host->available_tss);
  free(supported);
}

static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t type, bool s, uint8_t dpl, bool l, bool db, bool g) {
  uint64_t low = (limit & 0xffff) | ((uint64_t)(base & 0xffff) << 16);
  uint64_t high = ((base >> 16) & 0xff) | ((uint64_t)type << 8) | ((uint64_t)s << 12) | ((uint64_t)dpl << 13) |
                  (1ULL << 15) /* present */ | ((uint64_t)((limit >> 16) & 0xf) << 16) | ((uint64_t)l << 21) |
                  ((uint64_t)db << 22) | ((uint64_t)g << 23) | ((uint64_t)(base >> 24) << 24);
  return low | (high << 32);
}

// Page tables, GDT, TSS and code, into memory that reads as zeros.
static void write_guest(uint8_t *memory) {
  uint64_t *pml4 = (uint64_t *)(memory + PML4_GPA);
  uint64_t *pdpt = (uint64_t *)(memory + PDPT_GPA);
  uint64_t *pd = (uint64_t *)(memory + PD_GPA);
  uint64_t *pt = (uint64_t *)(memory + PT_GPA);
  pml4[0] = PDPT_GPA | PTE_TABLE;
  pdpt[0] = PD_GPA | PTE_TABLE;
  pd[0] = PT_GPA | PTE_TABLE;
  // Paging structures and the system page: supervisor, read-only, no execute.
  for (uint64_t gpa = PML4_GPA; gpa <= SYSTEM_GPA; gpa += PAGE_SIZE) {
    pt[gpa / PAGE_SIZE] = gpa | PTE_PRESENT | PTE_ACCESSED | PTE_EXECUTE_DISABLE;
  }
  pt[CODE_GPA / PAGE_SIZE] = CODE_GPA | PTE_PRESENT | PTE_ACCESSED | PTE_USER;
  pt[STACK_GPA / PAGE_SIZE] =
      STACK_GPA | PTE_PRESENT | PTE_ACCESSED | PTE_WRITABLE | PTE_DIRTY | PTE_USER | PTE_EXECUTE_DISABLE;
  pt[EXCEPTION_STACK_GPA / PAGE_SIZE] =
      EXCEPTION_STACK_GPA | PTE_PRESENT | PTE_ACCESSED | PTE_WRITABLE | PTE_DIRTY | PTE_EXECUTE_DISABLE;

  uint64_t *gdt = (uint64_t *)(memory + GDT_GPA);
  gdt[KERNEL_CODE_SELECTOR >> 3] = descriptor(0, 0xfffff, CODE_TYPE, true, 0, true, false, true);
  gdt[KERNEL_DATA_SELECTOR >> 3] = descriptor(0, 0xfffff, DATA_TYPE, true, 0, false, true, true);
  gdt[USER_DATA_SELECTOR >> 3] = descriptor(0, 0xfffff, DATA_TYPE, true, 3, false, true, true);
  gdt[USER_CODE_SELECTOR >> 3] = descriptor(0, 0xfffff, CODE_TYPE, true, 3, true, false, true);
  // A 16-byte system descriptor; its upper half (base 63:32) is 0 here.
  gdt[TSS_SELECTOR >> 3] = descriptor(TSS_GPA, TSS_LIMIT, TSS_BUSY_TYPE, false, 0, false, false, false);

  uint8_t *tss = memory + TSS_GPA;
  const uint64_t exception_stack_top = EXCEPTION_STACK_GPA + PAGE_SIZE;
  const uint16_t io_map_base = IO_BITMAP_OFFSET;
  memcpy(tss + TSS_RSP0_OFFSET, &exception_stack_top, sizeof exception_stack_top);
  memcpy(tss + TSS_IST1_OFFSET, &exception_stack_top, sizeof exception_stack_top);
  memcpy(tss + TSS_IO_MAP_BASE_OFFSET, &io_map_base, sizeof io_map_base);
  // Every port denied (bit set), and the terminator, except the two exit ports.
  memset(tss + IO_BITMAP_OFFSET, 0xff, IO_BITMAP_SIZE + 1);
  tss[IO_BITMAP_OFFSET + HALT_PORT / 8] &= (uint8_t)~(1U << (HALT_PORT % 8));
  tss[IO_BITMAP_OFFSET + CALL_HOST_PORT / 8] &= (uint8_t)~(1U << (CALL_HOST_PORT % 8));

  memcpy(memory + CODE_GPA, guest_code, sizeof guest_code);
}

// The general registers of a call: RIP at the entry, RSP as after a `call`.
static void stage_entry_registers(struct kvm_run *run) {
  run->s.regs.regs = (struct kvm_regs){.rip = ENTRY_GVA, .rsp = STACK_GPA + PAGE_SIZE - 8, .rflags = RFLAGS_GUEST};
  run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

static const char *exit_name(uint32_t reason) {
  switch (reason) {
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN (the guest faulted)";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY (KVM refused the guest state)";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    default: return "another exit";
  }
}

// KVM_RUN, which must end with the guest's `out` to `port`.
static void run_to_out(const struct vm *vm, uint16_t port, const char *when) {
  if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) fail(when);
  const struct kvm_run *run = vm->run;
  if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port) return;
  if (run->exit_reason == KVM_EXIT_IO) {
    failf("%s: expected an `out` to port 0x%x, got an %s of port 0x%x", when, port,
          run->io.direction == KVM_EXIT_IO_OUT ? "`out`" : "`in`", run->io.port);
  }
  failf("%s: expected an `out` to port 0x%x, got exit reason %u, %s", when, port, run->exit_reason,
        exit_name(run->exit_reason));
}

// Everything up to the staged registers; the next KVM_RUN enters the guest.
static void create_vm(struct host *host, struct vm *vm, size_t memory_size) {
  vm->memory_size = memory_size;
  vm->memfd = memfd_create("floor-guest-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (vm->memfd < 0) fail("memfd_create");
  if (ftruncate(vm->memfd, (off_t)memory_size) < 0) fail("ftruncate");
  if (fcntl(vm->memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0) fail("fcntl(F_ADD_SEALS)");
  vm->memory = mmap(NULL, memory_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->memfd, 0);
  if (vm->memory == MAP_FAILED) fail("mmap (guest memory)");

  vm->vm = ioctl(host->kvm, KVM_CREATE_VM, 0);
  if (vm->vm < 0) fail("KVM_CREATE_VM");
  struct kvm_userspace_memory_region region = {
      .slot = 0, .guest_phys_addr = 0, .memory_size = memory_size, .userspace_addr = (uint64_t)(uintptr_t)vm->memory,
  };
  if (ioctl(vm->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) fail("KVM_SET_USER_MEMORY_REGION");
  vm->vcpu = ioctl(vm->vm, KVM_CREATE_VCPU, 0);
  if (vm->vcpu < 0) fail("KVM_CREATE_VCPU");
  vm->run = mmap(NULL, host->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
  if (vm->run == MAP_FAILED) fail("mmap (kvm_run)");
  if (ioctl(vm->vcpu, KVM_SET_CPUID2, host->cpuid) < 0) fail("KVM_SET_CPUID2");
  if (host->xcr0 != 0) {
    struct kvm_xcrs xcrs = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = host->xcr0}}};
    // As the backend: a KVM that refuses XCR0 runs guests without XSAVE.
    if (ioctl(vm->vcpu, KVM_SET_XCRS, &xcrs) < 0) host->xcr0 = 0;
  }

  write_guest(vm->memory);

  struct kvm_sregs sregs = host->sregs;
  if (host->xcr0 != 0) sregs.cr4 |= CR4_OSXSAVE;
  struct kvm_run *run = vm->run;
  if (host->sync_sregs) {
    run->s.regs.sregs = sregs;
    run->kvm_dirty_regs = KVM_SYNC_X86_SREGS;
  } else if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) < 0) {
    fail("KVM_SET_SREGS");
  }
  // The backend asks for the registers at every exit; so does the floor.
  run->kvm_valid_regs = KVM_SYNC_X86_REGS;
  stage_entry_registers(run);
}

static void destroy_vm(const struct host *host, const struct vm *vm) {
  if (munmap(vm->run, host->run_size) < 0) fail("munmap (kvm_run)");
  if (close(vm->vcpu) < 0) fail("close (vCPU)");
  if (close(vm->vm) < 0) fail("close (VM)");
  if (munmap(vm->memory, vm->memory_size) < 0) fail("munmap (guest memory)");
  if (close(vm->memfd) < 0) fail("close (memfd)");
}

static struct create_samples measure_create(struct host *host, const struct options *options, size_t memory_size) {
  const int n = options->create.timed;
  struct create_samples out = {samples(n), samples(n), samples(n)};
  for (int i = -options->create.warmup; i < n; i++) {
    struct vm vm;
    const double start = now_us();
    create_vm(host, &vm, memory_size);
    run_to_out(&vm, HALT_PORT, "KVM_RUN (first entry)");
    const double exited = now_us();
    destroy_vm(host, &vm);
    const double end = now_us();
    if (i < 0) continue;
    out.total[i] = end - start;
    out.to_first_exit[i] = exited - start;
    out.teardown[i] = end - exited;
  }
  return out;
}

static double *measure_round_trip(const struct vm *vm, const struct options *options) {
  double *out = samples(options->hot.timed);
  for (int i = -options->hot.warmup; i < options->hot.timed; i++) {
    const double start = now_us();
    run_to_out(vm, CALL_HOST_PORT, "KVM_RUN (resume)");
    const double end = now_us();
    if (i >= 0) out[i] = end - start;
  }
  return out;
}

static double *measure_entry(const struct vm *vm, const struct options *options) {
  double *out = samples(options->hot.timed);
  for (int i = -options->hot.warmup; i < options->hot.timed; i++) {
    const double start = now_us();
    stage_entry_registers(vm->run);
    run_to_out(vm, HALT_PORT, "KVM_RUN (entry)");
    const double end = now_us();
    if (i >= 0) out[i] = end - start;
  }
  return out;
}

static double *measure_memcpy(const struct options *options, size_t pages) {
  const size_t size = pages * PAGE_SIZE;
  uint8_t *source = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (source == MAP_FAILED) fail("mmap (copy source)");
  int memfd = memfd_create("floor-copy-destination", MFD_CLOEXEC);
  if (memfd < 0) fail("memfd_create");
  if (ftruncate(memfd, (off_t)size) < 0) fail("ftruncate");
  uint8_t *destination = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (destination == MAP_FAILED) fail("mmap (copy destination)");
  memset(source, 0xa5, size);
  memset(destination, 0, size);

  double *out = samples(options->copy.timed);
  for (int i = -options->copy.warmup; i < options->copy.timed; i++) {
    const double start = now_us();
    memcpy(destination, source, size);
    // The copy is observable: the compiler may not drop or sink it.
    __asm__ volatile("" : : "r"(destination) : "memory");
    const double end = now_us();
    if (i >= 0) out[i] = end - start;
  }
  if (munmap(destination, size) < 0 || munmap(source, size) < 0) fail("munmap (copy buffers)");
  if (close(memfd) < 0) fail("close (memfd)");
  return out;
}

static void print_samples(const double *values, int n) {
  putchar('[');
  for (int i = 0; i < n; i++) printf(i == 0 ? "%.3f" : ",%.3f", values[i]);
  putchar(']');
}

static void usage(const char *message) {
  fprintf(stderr,
          "floor: %s\n"
          "usage: floor [--warmup N] [--iterations N] [--create-warmup N] [--create-iterations N]\n"
          "             [--copy-warmup N] [--copy-iterations N] [--memory-size BYTES]... [--copy-pages N]...\n",
          message);
  exit(2);
}

static unsigned long long parse_number(const char *option, const char *text, unsigned long long min,
                                       unsigned long long max) {
  char *end;
  errno = 0;
  unsigned long long value = text == NULL ? 0 : strtoull(text, &end, 0);
  if (text == NULL || *text == '\0' || *text == '-' || *end != '\0' || errno != 0 || value < min || value > max) {
    char message[160];
    snprintf(message, sizeof message, "%s needs a number from %llu to %llu, got %s", option, min, max,
             text == NULL ? "nothing" : text);
    usage(message);
  }
  return value;
}

// A count option: N timed iterations (at least 1), or N warmup ones (0 allowed).
static int parse_count(const char *option, const char *value, bool warmup) {
  return (int)parse_number(option, value, warmup ? 0 : 1, 10000000);
}

static void parse_options(int argc, char **argv, struct options *options) {
  *options = (struct options){.hot = {10, 1000}, .create = {2, 50}, .copy = {1, 20}};
  for (int i = 1; i < argc; i++) {
    const char *option = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    i++;
    if (strcmp(option, "--warmup") == 0) {
      options->hot.warmup = parse_count(option, value, true);
    } else if (strcmp(option, "--iterations") == 0) {
      options->hot.timed = parse_count(option, value, false);
    } else if (strcmp(option, "--create-warmup") == 0) {
      options->create.warmup = parse_count(option, value, true);
    } else if (strcmp(option, "--create-iterations") == 0) {
      options->create.timed = parse_count(option, value, false);
    } else if (strcmp(option, "--copy-warmup") == 0) {
      options->copy.warmup = parse_count(option, value, true);
    } else if (strcmp(option, "--copy-iterations") == 0) {
      options->copy.timed = parse_count(option, value, false);
    } else if (strcmp(option, "--memory-size") == 0) {
      if (options->memory_size_count == MAX_LIST) usage("too many --memory-size options");
      size_t size = (size_t)parse_number(option, value, MIN_MEMORY_SIZE, 1ULL << 40);
      if (size % PAGE_SIZE != 0) usage("--memory-size must be a multiple of 4096");
      options->memory_sizes[options->memory_size_count++] = size;
    } else if (strcmp(option, "--copy-pages") == 0) {
      if (options->copy_pages_count == MAX_LIST) usage("too many --copy-pages options");
      options->copy_pages[options->copy_pages_count++] = (size_t)parse_number(option, value, 1, 1ULL << 28);
    } else {
      char message[160];
      snprintf(message, sizeof message, "unknown option %s", option);
      usage(message);
    }
  }
}

int main(int argc, char **argv) {
  struct options options;
  parse_options(argc, argv, &options);
  struct host host;
  open_host(&host);

  struct create_samples create[MAX_LIST];
  for (int i = 0; i < options.memory_size_count; i++) create[i] = measure_create(&host, &options, options.memory_sizes[i]);

  struct vm hot;
  create_vm(&host, &hot, HOT_VM_MEMORY_SIZE);
  run_to_out(&hot, HALT_PORT, "KVM_RUN (first entry)");
  double *round_trip = measure_round_trip(&hot, &options);
  double *entry = measure_entry(&hot, &options);
  destroy_vm(&host, &hot);

  double *copies[MAX_LIST];
  for (int i = 0; i < options.copy_pages_count; i++) copies[i] = measure_memcpy(&options, options.copy_pages[i]);

  printf("{\"settings\":{\"syncSregs\":%s,\"xsave\":%s,\"availableTss\":%s},\"create\":{",
         host.sync_sregs ? "true" : "false", host.xcr0 != 0 ? "true" : "false", host.available_tss ? "true" : "false");
  for (int i = 0; i < options.memory_size_count; i++) {
    printf("%s\"%zu\":{\"totalUs\":", i == 0 ? "" : ",", options.memory_sizes[i]);
    print_samples(create[i].total, options.create.timed);
    fputs(",\"toFirstExitUs\":", stdout);
    print_samples(create[i].to_first_exit, options.create.timed);
    fputs(",\"teardownUs\":", stdout);
    print_samples(create[i].teardown, options.create.timed);
    putchar('}');
  }
  fputs("},\"roundTripUs\":", stdout);
  print_samples(round_trip, options.hot.timed);
  fputs(",\"entryUs\":", stdout);
  print_samples(entry, options.hot.timed);
  fputs(",\"memcpy\":{", stdout);
  for (int i = 0; i < options.copy_pages_count; i++) {
    printf("%s\"%zu\":", i == 0 ? "" : ",", options.copy_pages[i]);
    print_samples(copies[i], options.copy.timed);
  }
  fputs("}}\n", stdout);
  if (fflush(stdout) != 0) fail("writing the results");
  return 0;
}
