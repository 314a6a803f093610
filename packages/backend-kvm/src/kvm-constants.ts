/**
 * The values from `<linux/kvm.h>` that the TypeScript side needs. They are
 * part of the kernel's stable ABI; `load-native.ts` still checks them against
 * the values the addon was compiled with, so a mismatch fails loudly at load.
 */
export const KVM = {
  KVM_API_VERSION: 12,
  KVM_CAP_SYNC_REGS: 74,
  KVM_CAP_IMMEDIATE_EXIT: 136,
  KVM_CAP_XCRS: 56,
  KVM_SYNC_X86_REGS: 1,
  KVM_SYNC_X86_SREGS: 2,
  KVM_EXIT_UNKNOWN: 0,
  KVM_EXIT_EXCEPTION: 1,
  KVM_EXIT_IO: 2,
  KVM_EXIT_HYPERCALL: 3,
  KVM_EXIT_DEBUG: 4,
  KVM_EXIT_HLT: 5,
  KVM_EXIT_MMIO: 6,
  KVM_EXIT_IRQ_WINDOW_OPEN: 7,
  KVM_EXIT_SHUTDOWN: 8,
  KVM_EXIT_FAIL_ENTRY: 9,
  KVM_EXIT_INTR: 10,
  KVM_EXIT_INTERNAL_ERROR: 17,
  KVM_EXIT_SYSTEM_EVENT: 24,
  KVM_EXIT_IO_IN: 0,
  KVM_EXIT_IO_OUT: 1,
  KVM_INTERNAL_ERROR_EMULATION: 1,
  KVM_INTERNAL_ERROR_SIMUL_EX: 2,
  KVM_INTERNAL_ERROR_DELIVERY_EV: 3,
  KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON: 4,
} as const;

/** Name of every KVM constant above. */
export type KvmConstantName = keyof typeof KVM;

/** `KVM_EXIT_*` names by number, for messages about exits. */
export const KVM_EXIT_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(KVM)
    .filter(([name]) => name.startsWith('KVM_EXIT_') && !name.startsWith('KVM_EXIT_IO_'))
    .map(([name, value]) => [value, name]),
);

/** `KVM_INTERNAL_ERROR_*` names by suberror number. */
export const KVM_INTERNAL_ERROR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(KVM)
    .filter(([name]) => name.startsWith('KVM_INTERNAL_ERROR_'))
    .map(([name, value]) => [value, name]),
);

/**
 * `KVM_MEM_*` flags of `KVM_SET_USER_MEMORY_REGION` (`<linux/kvm.h>`). Not in
 * {@link KVM}: the addon does not export them for the load-time check.
 */
export const KVM_MEM = {
  /** The guest may not write the slot: writes exit as `KVM_EXIT_MMIO` (`KVM_CAP_READONLY_MEM`, which x86 KVM has long had). */
  KVM_MEM_READONLY: 1 << 1,
} as const;
