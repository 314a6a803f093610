// The in-kernel /dev/mshv ABI this addon uses (Linux include/uapi/linux/mshv.h,
// mainline 6.15+ and the subset Azure Linux keeps) and the hypervisor
// structures it passes through (hv_message, hv_vp_register_page), written out
// here because build machines do not have <linux/mshv.h>. Every size and offset
// is checked at compile time below, and exported to JavaScript as `abi.mshv`
// so load-native.ts can compare them with mshv-abi.ts.
#ifndef HYPERLIGHT_MSHV_MSHV_ABI_H_
#define HYPERLIGHT_MSHV_MSHV_ABI_H_

#include <linux/ioctl.h>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace hyperlight_mshv {
namespace mshv_abi {

inline constexpr unsigned kIoctlMagic = 0xB8;
inline constexpr size_t kPageSize = 4096;

// /dev/mshv: argument of MSHV_CREATE_PARTITION.
struct CreatePartition {
  uint64_t pt_flags;
  uint64_t pt_isolation;
};

// Partition: argument of MSHV_CREATE_VP.
struct CreateVp {
  uint32_t vp_index;
};

// Partition: argument of MSHV_SET_GUEST_MEMORY. Flags are 1 << bit.
struct UserMemRegion {
  uint64_t size;
  uint64_t guest_pfn;
  uint64_t userspace_addr;
  uint8_t flags;
  uint8_t rsvd[7];
};
inline constexpr uint8_t kMemWritable = 1u << 0;
inline constexpr uint8_t kMemExecutable = 1u << 1;
inline constexpr uint8_t kMemUnmap = 1u << 2;

// Partition or VP: argument of MSHV_ROOT_HVCALL.
struct RootHvcall {
  uint16_t code;
  uint16_t reps;
  uint16_t in_sz;
  uint16_t out_sz;
  uint16_t status;
  uint8_t rsvd[6];
  uint64_t in_ptr;
  uint64_t out_ptr;
};

// VP: argument of MSHV_GET_VP_STATE / MSHV_SET_VP_STATE.
struct GetSetVpState {
  uint8_t type;
  uint8_t rsvd[3];
  uint32_t buf_sz;
  uint64_t buf_ptr;
};

// Header of struct hv_message; the payload follows at 16.
struct HvMessageHeader {
  uint32_t message_type;
  uint8_t payload_size;
  uint8_t message_flags;
  uint8_t reserved[2];
  uint64_t sender;
};

// struct hv_message: what one MSHV_RUN_VP writes (struct mshv_run_vp).
struct HvMessage {
  HvMessageHeader header;
  uint64_t payload[30];
};

// hv_vp_register_page (x86-64), mmap offset 0 of a VP fd. Dirty bits are
// 1 << HV_X64_REGISTER_CLASS_*.
struct __attribute__((packed)) HvVpRegisterPage {
  uint16_t version;
  uint8_t isvalid;
  uint8_t rsvdz;
  uint32_t dirty;
  uint64_t gp_registers[16];  // rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8..r15
  uint64_t rip;
  uint64_t rflags;
  uint8_t reserved[8];
  uint8_t xmm[6][16];
  uint8_t segments[6][16];  // es, cs, ss, ds, fs, gs
  uint64_t cr0;
  uint64_t cr3;
  uint64_t cr4;
  uint64_t cr8;
  uint64_t efer;
  uint64_t dr7;
  uint64_t pending_interruption;
  uint64_t interrupt_state;
  uint64_t instruction_emulation_hints;
  uint64_t xfem;
  uint8_t reserved1[256];
  uint64_t interrupt_vectors;
};
inline constexpr uint32_t kDirtyGeneral = 1u << 0;
inline constexpr uint32_t kDirtyIp = 1u << 1;
inline constexpr uint32_t kDirtyFlags = 1u << 4;
// mmap offsets (in pages) of a VP fd.
inline constexpr off_t kRegisterPageOffset = 0;

static_assert(sizeof(CreatePartition) == 16 && offsetof(CreatePartition, pt_isolation) == 8);
static_assert(sizeof(CreateVp) == 4);
static_assert(sizeof(UserMemRegion) == 32 && offsetof(UserMemRegion, guest_pfn) == 8 &&
              offsetof(UserMemRegion, userspace_addr) == 16 && offsetof(UserMemRegion, flags) == 24);
static_assert(sizeof(RootHvcall) == 32 && offsetof(RootHvcall, reps) == 2 && offsetof(RootHvcall, in_sz) == 4 &&
              offsetof(RootHvcall, out_sz) == 6 && offsetof(RootHvcall, status) == 8 &&
              offsetof(RootHvcall, in_ptr) == 16 && offsetof(RootHvcall, out_ptr) == 24);
static_assert(sizeof(GetSetVpState) == 16 && offsetof(GetSetVpState, buf_sz) == 4 &&
              offsetof(GetSetVpState, buf_ptr) == 8);
static_assert(sizeof(HvMessageHeader) == 16 && offsetof(HvMessageHeader, payload_size) == 4 &&
              offsetof(HvMessageHeader, sender) == 8);
static_assert(sizeof(HvMessage) == 256 && offsetof(HvMessage, payload) == 16);
static_assert(sizeof(HvVpRegisterPage) == 696 && offsetof(HvVpRegisterPage, isvalid) == 2 &&
              offsetof(HvVpRegisterPage, dirty) == 4 && offsetof(HvVpRegisterPage, gp_registers) == 8 &&
              offsetof(HvVpRegisterPage, rip) == 136 && offsetof(HvVpRegisterPage, rflags) == 144 &&
              offsetof(HvVpRegisterPage, xmm) == 160 && offsetof(HvVpRegisterPage, segments) == 256 &&
              offsetof(HvVpRegisterPage, cr0) == 352 && offsetof(HvVpRegisterPage, dr7) == 392 &&
              offsetof(HvVpRegisterPage, interrupt_vectors) == 688);
static_assert(sizeof(HvVpRegisterPage) <= kPageSize, "the register page is one page");

// ioctl numbers (the argument's size is encoded in them).
inline constexpr unsigned long kCreatePartition = _IOW(kIoctlMagic, 0x00, CreatePartition);  // /dev/mshv
inline constexpr unsigned long kInitializePartition = _IO(kIoctlMagic, 0x00);                // partition
inline constexpr unsigned long kCreateVp = _IOW(kIoctlMagic, 0x01, CreateVp);                // partition
inline constexpr unsigned long kSetGuestMemory = _IOW(kIoctlMagic, 0x02, UserMemRegion);     // partition
inline constexpr unsigned long kRootHvcall = _IOWR(kIoctlMagic, 0x07, RootHvcall);           // partition, VP
inline constexpr unsigned long kRunVp = _IOR(kIoctlMagic, 0x00, HvMessage);                  // VP
inline constexpr unsigned long kGetVpState = _IOWR(kIoctlMagic, 0x01, GetSetVpState);        // VP
inline constexpr unsigned long kSetVpState = _IOWR(kIoctlMagic, 0x02, GetSetVpState);        // VP

static_assert(kCreatePartition == 0x4010B800 && kInitializePartition == 0xB800 && kCreateVp == 0x4004B801 &&
              kSetGuestMemory == 0x4020B802 && kRootHvcall == 0xC020B807 && kRunVp == 0x8100B800 &&
              kGetVpState == 0xC010B801 && kSetVpState == 0xC010B802,
              "the documented in-kernel numbers");

// The ioctl's name for errors ("MSHV_ROOT_HVCALL"), or "ioctl" for a number
// that is none of the above (all of them are distinct).
inline const char* IoctlName(unsigned long request) {
  switch (request) {
    case kCreatePartition: return "MSHV_CREATE_PARTITION";
    case kInitializePartition: return "MSHV_INITIALIZE_PARTITION";
    case kCreateVp: return "MSHV_CREATE_VP";
    case kSetGuestMemory: return "MSHV_SET_GUEST_MEMORY";
    case kRootHvcall: return "MSHV_ROOT_HVCALL";
    case kRunVp: return "MSHV_RUN_VP";
    case kGetVpState: return "MSHV_GET_VP_STATE";
    case kSetVpState: return "MSHV_SET_VP_STATE";
    default: return "ioctl";
  }
}

}  // namespace mshv_abi
}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_MSHV_ABI_H_
