/**
 * The in-kernel `/dev/mshv` ABI (Linux `include/uapi/linux/mshv.h`, mainline
 * 6.15+, also the subset Azure Linux kernels keep) and the Microsoft
 * hypervisor's own structures it passes through (`hvgdk_mini.h`, `hvhdk.h`).
 * Every number here is checked against `src/native/mshv_abi.h` (which
 * static_asserts the layouts) when the addon loads, and against the documented
 * values in the tests.
 */

/** Page size of guest memory, the register page and XSAVE buffers. */
export const PAGE_SIZE = 4096;

/** ioctl request numbers (magic 0xB8; the size of the argument is encoded in them). */
export const MSHV_IOCTL = {
  /** /dev/mshv: `_IOW(0xB8, 0x00, struct mshv_create_partition)`; returns a partition fd. */
  MSHV_CREATE_PARTITION: 0x4010_b800,
  /** partition: `_IO(0xB8, 0x00)`. */
  MSHV_INITIALIZE_PARTITION: 0x0000_b800,
  /** partition: `_IOW(0xB8, 0x01, struct mshv_create_vp)`; returns a VP fd. */
  MSHV_CREATE_VP: 0x4004_b801,
  /** partition: `_IOW(0xB8, 0x02, struct mshv_user_mem_region)`. */
  MSHV_SET_GUEST_MEMORY: 0x4020_b802,
  /** partition or VP: `_IOWR(0xB8, 0x07, struct mshv_root_hvcall)`. */
  MSHV_ROOT_HVCALL: 0xc020_b807,
  /** VP: `_IOR(0xB8, 0x00, struct mshv_run_vp)`: one `struct hv_message`. */
  MSHV_RUN_VP: 0x8100_b800,
  /** VP: `_IOWR(0xB8, 0x01, struct mshv_get_set_vp_state)`. */
  MSHV_GET_VP_STATE: 0xc010_b801,
  /** VP: `_IOWR(0xB8, 0x02, struct mshv_get_set_vp_state)`. */
  MSHV_SET_VP_STATE: 0xc010_b802,
} as const;

/** Name of an ioctl in {@link MSHV_IOCTL}. */
export type MshvIoctlName = keyof typeof MSHV_IOCTL;

/** `struct mshv_create_partition` (16 bytes). */
export const CREATE_PARTITION = { size: 16, ptFlags: 0, ptIsolation: 8 } as const;

/** `struct mshv_create_vp` (4 bytes). */
export const CREATE_VP = { size: 4, vpIndex: 0 } as const;

/** `struct mshv_user_mem_region` (32 bytes) and its flag values. */
export const USER_MEM_REGION = {
  size: 32,
  sizeField: 0,
  guestPfn: 8,
  userspaceAddr: 16,
  flags: 24,
  /** Flag values (1 << MSHV_SET_MEM_BIT_*). Every region is readable. */
  writable: 1 << 0,
  executable: 1 << 1,
  unmap: 1 << 2,
} as const;

/** `struct mshv_root_hvcall` (32 bytes). */
export const ROOT_HVCALL = {
  size: 32,
  code: 0,
  reps: 2,
  inSize: 4,
  outSize: 6,
  /** In: must be 0. Out: the hypervisor's HV_STATUS, also when the ioctl fails. */
  status: 8,
  inPtr: 16,
  outPtr: 24,
  /** The kernel accepts at most a page of input and of output. */
  maxBytes: 4096,
} as const;

/** `struct mshv_get_set_vp_state` (16 bytes); the buffer is page-aligned, a multiple of 4096 bytes. */
export const VP_STATE = { size: 16, type: 0, bufSize: 4, bufPtr: 8, typeXsave: 1 } as const;

/** `struct mshv_run_vp`: a buffer for one `struct hv_message`. */
export const RUN_VP = { size: 256 } as const;

/** Hypercall codes the kernel passes through (its allow-list). */
export const HVCALL = {
  GET_PARTITION_PROPERTY: 0x44,
  SET_PARTITION_PROPERTY: 0x45,
  GET_VP_REGISTERS: 0x50,
  SET_VP_REGISTERS: 0x51,
} as const;

/** Hypercall input layouts (packed); the kernel fills `partition_id` (offset 0) itself. */
export const HV_INPUT = {
  /** `hv_input_set_partition_property` (24). */
  setPropertySize: 24,
  /** `hv_input_get_partition_property` (16); output is one u64. */
  getPropertySize: 16,
  propertyCode: 8,
  propertyValue: 16,
  /** `hv_input_{get,set}_vp_registers` header (16): vp_index u32@8, input_vtl u8@12. */
  vpRegistersHeader: 16,
  vpIndex: 8,
  /** GET: u32 names follow the header. SET: `hv_register_assoc` (32 bytes) follow it. */
  nameSize: 4,
  assocSize: 32,
  /** `hv_register_assoc`: name u32@0, value@16. */
  assocName: 0,
  assocValue: 16,
  /** `hv_register_value` (16 bytes): one per name in GET's output. */
  valueSize: 16,
} as const;

/** Partition property codes (`enum hv_partition_property_code`). */
export const HV_PARTITION_PROPERTY = {
  SYNTHETIC_PROC_FEATURES: 0x0001_0001,
  PROCESSOR_CLOCK_FREQUENCY: 0x0006_0009,
} as const;

/** HV_STATUS values this backend names (Hypervisor TLFS). */
export const HV_STATUS = {
  SUCCESS: 0x0,
  INVALID_HYPERCALL_CODE: 0x2,
  INVALID_HYPERCALL_INPUT: 0x3,
  INVALID_ALIGNMENT: 0x4,
  INVALID_PARAMETER: 0x5,
  ACCESS_DENIED: 0x6,
  INVALID_PARTITION_STATE: 0x7,
  OPERATION_DENIED: 0x8,
  UNKNOWN_PROPERTY: 0x9,
  PROPERTY_VALUE_OUT_OF_RANGE: 0xa,
  INSUFFICIENT_MEMORY: 0xb,
  INVALID_PARTITION_ID: 0xd,
  INVALID_VP_INDEX: 0xe,
} as const;

/** Register names (`enum hv_register_name`) this backend reads or writes. */
export const HV_REGISTER = {
  RAX: 0x0002_0000, RCX: 0x0002_0001, RDX: 0x0002_0002, RBX: 0x0002_0003,
  RSP: 0x0002_0004, RBP: 0x0002_0005, RSI: 0x0002_0006, RDI: 0x0002_0007,
  R8: 0x0002_0008, R9: 0x0002_0009, R10: 0x0002_000a, R11: 0x0002_000b,
  R12: 0x0002_000c, R13: 0x0002_000d, R14: 0x0002_000e, R15: 0x0002_000f,
  RIP: 0x0002_0010, RFLAGS: 0x0002_0011,
  CR2: 0x0004_0001, CR8: 0x0004_0004, XFEM: 0x0004_0005,
  /** CR0/CR3/CR4 go through the "intermediate" names, as rust-vmm's mshv-ioctls does. */
  INTERMEDIATE_CR0: 0x0004_1000, INTERMEDIATE_CR3: 0x0004_1002, INTERMEDIATE_CR4: 0x0004_1003,
  ES: 0x0006_0000, CS: 0x0006_0001, SS: 0x0006_0002, DS: 0x0006_0003,
  FS: 0x0006_0004, GS: 0x0006_0005, LDTR: 0x0006_0006, TR: 0x0006_0007,
  IDTR: 0x0007_0000, GDTR: 0x0007_0001,
  EFER: 0x0008_0001, APIC_BASE: 0x0008_0003,
} as const;

/** `hv_x64_segment_register` and `hv_x64_table_register` inside a 16-byte register value. */
export const HV_SEGMENT = { base: 0, limit: 8, selector: 12, attributes: 14 } as const;
/** `hv_x64_table_register`: pad u16[3], limit u16@6, base u64@8. */
export const HV_TABLE = { limit: 6, base: 8 } as const;

/** `hv_vp_register_page` (mmap offset 0 of a VP fd): the fields this backend uses. */
export const REGISTER_PAGE = {
  /** Bytes of the structure (the mapping is one page). */
  size: 696,
  version: 0,
  isValid: 2,
  dirty: 4,
  /** rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15: 16 u64 from here (hardware order). */
  gprs: 8,
  rip: 136,
  rflags: 144,
  /** Dirty bits: the hypervisor loads the marked groups on the next run. */
  dirtyGeneral: 1 << 0,
  dirtyIp: 1 << 1,
  dirtyFlags: 1 << 4,
} as const;

/** `struct hv_message` (256 bytes) and the x64 intercept payloads, as offsets in the whole message. */
export const HV_MESSAGE = {
  size: 256,
  type: 0,
  payloadSize: 4,
  /** Payload starts here. */
  payload: 16,
  /** `hv_x64_intercept_message_header` (40 bytes at 16). */
  vpIndex: 16,
  /** Low 4 bits: instruction length; high 4: CR8. */
  instructionLength: 20,
  /** 0 read, 1 write, 2 execute. */
  interceptAccessType: 21,
  executionState: 22,
  rip: 40,
  rflags: 48,
  /** `hv_x64_io_port_intercept_message`. */
  ioPort: 56,
  /** Bits 0-2 access size in bytes, bit 3 string op, bit 4 rep prefix. */
  ioAccessInfo: 58,
  ioRax: 64,
  /** `hv_x64_memory_intercept_message`. */
  memoryGva: 64,
  memoryGpa: 72,
  /** `hv_x64_unsupported_feature_message`: feature_code u32, parameter u64. */
  unsupportedFeatureCode: 20,
  unsupportedFeatureParameter: 24,
} as const;

/** `hv_message_type` values of the intercepts `/dev/mshv` returns. */
export const HVMSG = {
  NONE: 0x0000_0000,
  UNMAPPED_GPA: 0x8000_0000,
  GPA_INTERCEPT: 0x8000_0001,
  INVALID_VP_REGISTER_VALUE: 0x8000_0020,
  UNRECOVERABLE_EXCEPTION: 0x8000_0021,
  UNSUPPORTED_FEATURE: 0x8000_0022,
  X64_IO_PORT_INTERCEPT: 0x8001_0000,
  X64_MSR_INTERCEPT: 0x8001_0001,
  X64_CPUID_INTERCEPT: 0x8001_0002,
  X64_EXCEPTION_INTERCEPT: 0x8001_0003,
  X64_HALT: 0x8001_0007,
} as const;

/** XSAVE area fields of the power-on FPU state (legacy region and XSAVE header). */
export const XSAVE = {
  fcw: 0,
  mxcsr: 24,
  xstateBv: 512,
  xcompBv: 520,
  /** x87 control word after FNINIT. */
  fcwPowerOn: 0x37f,
  /** MXCSR after reset. */
  mxcsrPowerOn: 0x1f80,
  /** x87 | SSE. */
  xstateBvPowerOn: 3n,
} as const;
