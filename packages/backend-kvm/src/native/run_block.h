// Layout of the per-vCPU "run block": a small buffer shared zero-copy between
// this addon and TypeScript so that one guest entry is one JS -> C++ call with
// no objects created on either side:
//
//   TS writes registers  ->  VcpuFd.run(loadRegs)  ->  C++ copies them into kvm_run's
//   sync_regs area, calls KVM_RUN, copies the registers KVM stored back, and
//   records the exit here  ->  TS reads the exit and registers from typed arrays.
//
// The same offsets are written down in src/run-block.ts; load-native.ts compares
// them with the values this addon exports (abi.runBlock) and refuses a mismatch.
#ifndef HYPERLIGHT_KVM_RUN_BLOCK_H_
#define HYPERLIGHT_KVM_RUN_BLOCK_H_

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>

namespace hyperlight_kvm::run_block {

inline constexpr size_t kSize = 256;

// Indices into the block viewed as uint64_t[32].
inline constexpr size_t kRegsU64 = 0;  // 18 registers in struct kvm_regs order (rax ... r15, rip, rflags)
inline constexpr size_t kRegCount = 18;
inline constexpr size_t kMmioGpaU64 = 18;                  // kvm_run.mmio.phys_addr
inline constexpr size_t kFailEntryReasonU64 = 19;          // kvm_run.fail_entry.hardware_entry_failure_reason
inline constexpr size_t kInternalDataU64 = 20;             // kvm_run.internal.data[0..3]
inline constexpr size_t kInternalDataCount = 4;

// Indices into the block viewed as uint32_t[64] (after the uint64_t fields).
inline constexpr size_t kExitReasonU32 = 48;        // kvm_run.exit_reason, or KVM_EXIT_INTR for EINTR
inline constexpr size_t kIoDirectionU32 = 49;       // KVM_EXIT_IO_IN / KVM_EXIT_IO_OUT
inline constexpr size_t kIoSizeU32 = 50;            // bytes per element: 1, 2 or 4
inline constexpr size_t kIoPortU32 = 51;
inline constexpr size_t kIoCountU32 = 52;           // elements (> 1 for rep ins/outs)
inline constexpr size_t kIoValueU32 = 53;           // first element written by `out`, zero-extended
inline constexpr size_t kMmioSizeU32 = 54;          // kvm_run.mmio.len
inline constexpr size_t kMmioIsWriteU32 = 55;
inline constexpr size_t kInternalSuberrorU32 = 56;  // kvm_run.internal.suberror
inline constexpr size_t kInternalNdataU32 = 57;     // kvm_run.internal.ndata
inline constexpr size_t kFailEntryCpuU32 = 58;      // kvm_run.fail_entry.cpu

static_assert(sizeof(struct kvm_regs) == kRegCount * sizeof(uint64_t), "kvm_regs is 18 x u64");
static_assert((kInternalDataU64 + kInternalDataCount) * 8 <= kExitReasonU32 * 4, "u64 and u32 fields overlap");
static_assert((kFailEntryCpuU32 + 1) * 4 <= kSize, "run block too small");

}  // namespace hyperlight_kvm::run_block

#endif  // HYPERLIGHT_KVM_RUN_BLOCK_H_
