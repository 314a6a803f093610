/**
 * Numbers of the Windows Hypervisor Platform API (WinHvPlatformDefs.h) this
 * backend uses. Source: the Debian mingw-w64-common 10.0.0-3 headers
 * (`/usr/share/mingw-w64/include/winhvplatformdefs.h`); the offsets were
 * measured by compiling a probe against them (test/check-mingw-offsets.sh).
 */

/** `WHV_CAPABILITY_CODE` values. */
export const WHV_CAPABILITY = {
  hypervisorPresent: 0x0000,
  features: 0x0001,
  processorClockFrequency: 0x1004,
} as const;

/** Bytes of the `WHV_CAPABILITY` union, the largest answer of WHvGetCapability. */
export const WHV_CAPABILITY_SIZE = 24;

/** `WHV_PARTITION_PROPERTY_CODE` values. */
export const WHV_PARTITION_PROPERTY = {
  processorCount: 0x1fff,
} as const;

/** `WHV_MAP_GPA_RANGE_FLAGS` bits. */
export const WHV_MAP_GPA_RANGE = {
  read: 0x1,
  write: 0x2,
  execute: 0x4,
  trackDirtyPages: 0x8,
} as const;

/** `WHV_RUN_VP_EXIT_REASON` values. */
export const WHV_EXIT_REASON = {
  none: 0x0,
  memoryAccess: 0x1,
  x64IoPortAccess: 0x2,
  unrecoverableException: 0x4,
  invalidVpRegisterValue: 0x5,
  unsupportedFeature: 0x6,
  x64InterruptWindow: 0x7,
  x64Halt: 0x8,
  x64ApicEoi: 0x9,
  synicSintDeliverable: 0xa,
  x64MsrAccess: 0x1000,
  x64Cpuid: 0x1001,
  exception: 0x1002,
  x64Rdtsc: 0x1003,
  x64ApicSmiTrap: 0x1004,
  hypercall: 0x1005,
  x64ApicInitSipiTrap: 0x1006,
  x64ApicWriteTrap: 0x1007,
  canceled: 0x2001,
} as const;

/** The header's names of the exit reasons, for `unknown` exit details. */
export const WHV_EXIT_REASON_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(WHV_EXIT_REASON).map(([name, value]) => [value, `WHvRunVpExitReason${name[0]!.toUpperCase()}${name.slice(1)}`]),
);

/**
 * Byte offsets in `WHV_RUN_VP_EXIT_CONTEXT` (224 bytes): the exit reason,
 * the `WHV_VP_EXIT_CONTEXT` at 8, and the union of per-reason contexts at 48.
 */
export const EXIT_CONTEXT = {
  size: 224,
  exitReason: 0,
  /** Low 4 bits: InstructionLength; high 4 bits: Cr8. */
  instructionLengthCr8: 10,
  rip: 32,
  rflags: 40,
  /** `WHV_X64_IO_PORT_ACCESS_CONTEXT` and `WHV_MEMORY_ACCESS_CONTEXT`: AccessInfo (u32). */
  accessInfo: 68,
  /** IO: PortNumber (u16). */
  ioPort: 72,
  /** IO: Rax (u64). */
  ioRax: 80,
  /** Memory: Gpa (u64). */
  memoryGpa: 72,
  /** Memory: Gva (u64). */
  memoryGva: 80,
  /** `WHV_X64_UNSUPPORTED_FEATURE_CONTEXT`: FeatureCode (u32). */
  unsupportedFeatureCode: 48,
  /** `WHV_X64_UNSUPPORTED_FEATURE_CONTEXT`: FeatureParameter (u64). */
  unsupportedFeatureParameter: 56,
  /** `WHV_RUN_VP_CANCELED_CONTEXT`: CancelReason (u32). */
  cancelReason: 48,
} as const;

/** Bits of `WHV_X64_IO_PORT_ACCESS_INFO`. */
export const IO_ACCESS_INFO = {
  isWrite: 0x1,
  /** AccessSize in bytes (1, 2 or 4), bits 1-3. */
  accessSizeShift: 1,
  accessSizeMask: 0x7,
  stringOp: 0x10,
  repPrefix: 0x20,
} as const;

/** Bits of `WHV_MEMORY_ACCESS_INFO`. */
export const MEMORY_ACCESS_INFO = {
  /** AccessType (0 read, 1 write, 2 execute), bits 0-1. */
  accessTypeMask: 0x3,
  gpaUnmapped: 0x4,
  gvaValid: 0x8,
} as const;

/** `WHV_X64_UNSUPPORTED_FEATURE_CODE` names. */
export const WHV_UNSUPPORTED_FEATURE_NAMES: ReadonlyMap<number, string> = new Map([
  [1, 'Intercept'],
  [2, 'TaskSwitchTss'],
]);

/** Bytes of one `WHV_REGISTER_VALUE` (DECLSPEC_ALIGN(16)). */
export const WHV_REGISTER_VALUE_SIZE = 16;

/** `WHV_REGISTER_NAME` values used by this backend. */
export const WHV_REGISTER = {
  rax: 0x00, rcx: 0x01, rdx: 0x02, rbx: 0x03, rsp: 0x04, rbp: 0x05, rsi: 0x06, rdi: 0x07,
  r8: 0x08, r9: 0x09, r10: 0x0a, r11: 0x0b, r12: 0x0c, r13: 0x0d, r14: 0x0e, r15: 0x0f,
  rip: 0x10, rflags: 0x11,
  es: 0x12, cs: 0x13, ss: 0x14, ds: 0x15, fs: 0x16, gs: 0x17, ldtr: 0x18, tr: 0x19,
  idtr: 0x1a, gdtr: 0x1b,
  cr0: 0x1c, cr2: 0x1d, cr3: 0x1e, cr4: 0x1f, cr8: 0x20,
  xcr0: 0x27,
  fpControlStatus: 0x1018,
  xmmControlStatus: 0x1019,
  efer: 0x2001,
  apicBase: 0x2003,
} as const;

/**
 * `WHV_X64_SEGMENT_REGISTER` (16 bytes): Base u64 @0, Limit u32 @8, Selector
 * u16 @12, Attributes u16 @14 (the VMX access-rights layout without the
 * "unusable" bit 16).
 */
export const SEGMENT_REGISTER = { base: 0, limit: 8, selector: 12, attributes: 14 } as const;

/** `WHV_X64_TABLE_REGISTER` (16 bytes): Pad u16[3] @0, Limit u16 @6, Base u64 @8. */
export const TABLE_REGISTER = { limit: 6, base: 8 } as const;

/** Bits of a segment's Attributes word. */
export const SEGMENT_ATTRIBUTES = {
  typeMask: 0xf,
  s: 1 << 4,
  dplShift: 5,
  dplMask: 0x3,
  present: 1 << 7,
  avl: 1 << 12,
  l: 1 << 13,
  db: 1 << 14,
  g: 1 << 15,
} as const;

/**
 * `WHV_X64_FP_CONTROL_STATUS_REGISTER` (16 bytes): FpControl u16 @0,
 * FpStatus u16 @2, FpTag u8 @4, ...; and `WHV_X64_XMM_CONTROL_STATUS_REGISTER`:
 * XmmStatusControl (MXCSR) u32 @8, XmmStatusControlMask u32 @12.
 */
export const FP_REGISTERS = { fpControl: 0, mxcsr: 8, mxcsrMask: 12 } as const;

/** HRESULTs this backend tells apart (as unsigned 32-bit values). */
export const HRESULT = {
  /**
   * `ERROR_VID_PARTITION_ALREADY_EXISTS` (Windows SDK winerror.h; mingw's
   * copy lacks the VID codes): a second partition mapped memory in this process.
   */
  vidPartitionAlreadyExists: 0xc0370008,
  /** `E_INVALIDARG`. */
  invalidArg: 0x80070057,
} as const;
