// The few KVM definitions this addon restates because <linux/kvm.h> is wrong
// for C++.
//
// Linux 6.1's UAPI headers declare flexible array members with
// __DECLARE_FLEX_ARRAY, which expands to `struct { struct { } __empty_x; T x[]; }`.
// An empty struct has size 0 in C but 1 in C++, so compiled as C++
// sizeof(struct kvm_cpuid2) is 12 instead of 8 and its entries start at offset
// 12 (kvm_xsave grows the same way). The ioctl numbers encode sizeof, so
// KVM_GET_SUPPORTED_CPUID, KVM_SET_CPUID2, KVM_GET_XSAVE, ... would all be
// numbers the kernel does not know (it answers EINVAL). These definitions use
// the C layout; the static_asserts pin them to the kernel ABI.
#ifndef HYPERLIGHT_KVM_KVM_ABI_H_
#define HYPERLIGHT_KVM_KVM_ABI_H_

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace hyperlight_kvm::kvm_abi {

// struct kvm_cpuid2 without its flexible array: `nent` kvm_cpuid_entry2 follow.
struct Cpuid2Header {
  __u32 nent;
  __u32 padding;
};

// struct kvm_xsave without its flexible array (KVM_CAP_XSAVE2 may need more bytes).
struct XsaveRegion {
  __u32 region[1024];
};

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long kGetCpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
inline constexpr unsigned long kGetXsave = _IOR(KVMIO, 0xa4, XsaveRegion);
inline constexpr unsigned long kSetXsave = _IOW(KVMIO, 0xa5, XsaveRegion);
inline constexpr unsigned long kGetXsave2 = _IOR(KVMIO, 0xcf, XsaveRegion);

static_assert(kGetSupportedCpuid == 0xc008ae05, "KVM_GET_SUPPORTED_CPUID as compiled from C");
static_assert(kSetCpuid2 == 0x4008ae90, "KVM_SET_CPUID2 as compiled from C");
static_assert(kGetCpuid2 == 0xc008ae91, "KVM_GET_CPUID2 as compiled from C");
static_assert(kGetXsave == 0x9000aea4, "KVM_GET_XSAVE as compiled from C");
static_assert(kSetXsave == 0x5000aea5, "KVM_SET_XSAVE as compiled from C");
static_assert(kGetXsave2 == 0x9000aecf, "KVM_GET_XSAVE2 as compiled from C");
static_assert(sizeof(kvm_cpuid_entry2) == 40, "struct kvm_cpuid_entry2");
// kvm_run has no flexible array; check the fields the hot path relies on anyway.
static_assert(offsetof(kvm_run, s.regs.regs) == 304 && offsetof(kvm_run, s.regs.sregs) == 448, "struct kvm_run");

// A struct kvm_cpuid2 with room for `capacity` entries, in the C layout.
class CpuidBuffer {
 public:
  explicit CpuidBuffer(uint32_t capacity)
      : words_((sizeof(Cpuid2Header) + capacity * sizeof(kvm_cpuid_entry2) + 7) / 8) {
    header()->nent = capacity;
  }
  // SAFETY: words_ is 8-byte aligned and holds the header plus `capacity` entries.
  Cpuid2Header* header() { return reinterpret_cast<Cpuid2Header*>(words_.data()); }
  kvm_cpuid_entry2* entries() { return reinterpret_cast<kvm_cpuid_entry2*>(header() + 1); }
  void* ioctl_arg() { return words_.data(); }

 private:
  std::vector<uint64_t> words_;  // zero-initialised
};

// Offsets in the XSAVE area (SDM vol. 1 §13.4): the legacy FXSAVE region, then the header.
inline constexpr size_t kXsaveFcwOffset = 0;          // u16
inline constexpr size_t kXsaveMxcsrOffset = 24;       // u32
inline constexpr size_t kXsaveMxcsrMaskOffset = 28;   // u32
inline constexpr size_t kXsaveLegacySize = 512;
inline constexpr size_t kXsaveXstateBvOffset = 512;   // u64
inline constexpr size_t kXsaveHeaderSize = 64;
inline constexpr uint64_t kXfeatureX87 = 1 << 0;
inline constexpr uint64_t kXfeatureSse = 1 << 1;

}  // namespace hyperlight_kvm::kvm_abi

#endif  // HYPERLIGHT_KVM_KVM_ABI_H_
