/**
 * The hypervisor-neutral interface every backend package implements
 * (`@hyperlight-ts/backend-kvm`, `-mshv`, `-whp`). Core builds all guest state
 * (memory contents, page tables, descriptor tables, register values) and drives
 * a backend only through these types, so no hypervisor API leaks past here.
 */

/** Names of the backends core knows how to discover. */
export type BackendName = 'kvm' | 'mshv' | 'whp';

/** Why a backend cannot be used on this machine. */
export type BackendUnavailableReason =
  | 'not-installed'
  | 'unsupported-platform'
  | 'load-failed'
  | 'device-missing'
  | 'permission-denied'
  | 'api-mismatch';

/** The result of asking a backend whether it can run here. */
export type BackendStatus =
  | { readonly usable: true; readonly detail: string }
  | { readonly usable: false; readonly reason: BackendUnavailableReason; readonly detail: string };

/** General-purpose registers, instruction pointer and flags (x86-64). */
export interface Registers {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint;
  rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint;
  r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** A segment register in its hidden (descriptor-cache) form. */
export interface Segment {
  base: bigint;
  limit: number;
  selector: number;
  /** Descriptor type field (4 bits). */
  type: number;
  present: boolean;
  dpl: number;
  /** Default operation size (D/B bit). */
  db: boolean;
  /** Code/data (true) or system (false) descriptor (S bit). */
  s: boolean;
  /** 64-bit code segment (L bit). */
  l: boolean;
  /** Granularity (G bit). */
  g: boolean;
  avl: boolean;
  unusable: boolean;
}

/** GDTR or IDTR. */
export interface DescriptorTable {
  base: bigint;
  limit: number;
}

/** Segment, descriptor-table and control registers. */
export interface SpecialRegisters {
  cs: Segment; ds: Segment; es: Segment; fs: Segment; gs: Segment; ss: Segment;
  tr: Segment; ldt: Segment;
  gdt: DescriptorTable; idt: DescriptorTable;
  cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint;
  efer: bigint; apicBase: bigint;
}

/** Why `VirtualMachine.run()` returned. */
export type VmExit =
  /** The guest wrote `value` (`size` = 1, 2 or 4 bytes, zero-extended) to I/O `port`. */
  | { readonly kind: 'io-out'; readonly port: number; readonly size: number; readonly value: number }
  /** The guest read from I/O `port`; the backend answers with zeroes. */
  | { readonly kind: 'io-in'; readonly port: number; readonly size: number }
  /** The guest touched guest-physical `gpa`, which no memory backs. */
  | { readonly kind: 'mmio'; readonly gpa: bigint; readonly write: boolean; readonly size: number }
  /** The vCPU executed `hlt`. */
  | { readonly kind: 'halt' }
  /** The vCPU shut down (triple fault). */
  | { readonly kind: 'shutdown' }
  /** The run was interrupted from outside (signal / immediate exit) before the guest stopped. */
  | { readonly kind: 'interrupted' }
  /** The hypervisor could not continue; `detail` names the hypervisor's own code. */
  | { readonly kind: 'internal-error'; readonly detail: string }
  /** The hypervisor refused to enter the guest (invalid state). */
  | { readonly kind: 'fail-entry'; readonly detail: string }
  /** An exit this interface does not model; `detail` names the raw reason. */
  | { readonly kind: 'unknown'; readonly detail: string };

/** Options for {@link Backend.createVm}. */
export interface VmOptions {
  /** Bytes of guest memory, mapped at guest-physical address 0. A multiple of 4096. */
  memorySize: number;
}

/**
 * One micro VM with one vCPU and one contiguous guest-physical memory region at
 * address 0. Released deterministically by `dispose()` (or `using`); after that
 * every method throws and `memory` is detached (zero length).
 */
export interface VirtualMachine extends Disposable {
  /** Guest memory, shared zero-copy with the hypervisor mapping. */
  readonly memory: ArrayBuffer;
  /** Whether the vCPU runs with XSAVE enabled (core then sets CR4.OSXSAVE). */
  readonly xsaveEnabled: boolean;
  /**
   * Load TR with an *available* rather than busy TSS descriptor. Intel VMX
   * requires busy; QEMU's CPU emulator checks I/O permissions only against an
   * available TSS, so a backend running under it sets this.
   */
  readonly availableTss?: boolean;
  /** Reads the special registers. */
  getSpecialRegisters(): SpecialRegisters;
  /** Writes the special registers (applied before the next run; invalid values may only fail there). */
  setSpecialRegisters(sregs: SpecialRegisters): void;
  /** Reads the general registers as they were at the last exit. */
  getRegisters(): Registers;
  /** Writes the general registers (applied before the next run). */
  setRegisters(regs: Registers): void;
  /** Resets x87/SSE state to power-on defaults (FCW 0x37f, MXCSR 0x1f80). */
  resetFpu(): void;
  /**
   * Runs the vCPU until the next exit. When `regs` is given they are loaded
   * first, in the same crossing into the hypervisor where the API allows.
   */
  run(regs?: Registers): VmExit;
  /** Releases the vCPU, VM and memory. Idempotent. */
  dispose(): void;
}

/** A hypervisor backend, exported by a backend package as `backend`. */
export interface Backend {
  readonly name: BackendName;
  /** Checks whether this backend can create VMs here; never throws. */
  check(): BackendStatus;
  /**
   * Creates a VM with `options.memorySize` bytes of zeroed guest memory.
   * @throws a Node-style system error (`code` = errno name, `syscall`) when the
   *   hypervisor refuses; core wraps it in `HypervisorError`.
   */
  createVm(options: VmOptions): VirtualMachine;
}
