/**
 * The CPUID table every guest vCPU gets, built from `KVM_GET_SUPPORTED_CPUID`.
 *
 * KVM's supported table describes the host: brand string, model and
 * stepping, serial number, caches, topology, and KVM's own paravirtual
 * leaves. A guest needs none of that to run correctly; it needs the feature
 * bits that say which instructions work, the XSAVE layout, and the address
 * sizes. So the guest sees a short allow-list of leaves:
 *
 * | leaf | kept | changed |
 * |---|---|---|
 * | `0` | vendor string | EAX (max basic leaf) = the highest basic leaf kept |
 * | `1` | family, extended family, CLFLUSH line size, feature bits | model, stepping, brand index, APIC ID and logical-processor count zeroed; hypervisor bit (ECX 31) set; VMX, SMX, PDCM, x2APIC, PSN, HTT cleared |
 * | `7` (every sub-leaf KVM reports) | structured extended features | SGX, SGX_LC, Intel PT, hybrid, AMX and AVX10 cleared |
 * | `0xD` (every sub-leaf KVM reports) | XSAVE components, sizes and offsets (KVM sizes the XSAVE area from them) | none |
 * | `0x40000000` | | new: max hypervisor leaf `0x40000000`, signature `"HyperlightTS"` |
 * | `0x80000000` | vendor string (AMD repeats it here) | EAX (max extended leaf) = the highest extended leaf kept |
 * | `0x80000001` | extended features (LM, NX, SYSCALL, LAHF, LZCNT, 1 GiB pages, RDTSCP, …) | family/model/stepping as in leaf 1; EBX (AMD brand id, package type) zeroed; SVM, CmpLegacy and TopologyExtensions cleared |
 * | `0x80000008` | EAX (physical and linear address sizes), EBX (AMD feature bits) | ECX (AMD core count and APIC ID size) zeroed |
 *
 * Everything else is left out: the serial number (3), cache and TLB
 * descriptors (2, 4, `0x80000005`, `0x80000006`), topology (`0xB`, `0x1F`,
 * `0x8000001E`), power, thermal, performance monitoring and frequency leaves,
 * the brand string (`0x80000002`–`0x80000004`), and KVM's leaves from
 * `0x40000000`: the guest gets no KVM paravirtual features (KVM finds its
 * feature leaf by its `"KVMKVMKVM"` signature, which is gone). A feature bit
 * whose details live in a leaf that is left out is cleared with it, so the
 * table never promises what it cannot describe; so are nested virtualization
 * (VMX, SVM) and x2APIC, since the VM has no in-kernel local APIC to put in
 * that mode. Inside the kept range, KVM answers a missing leaf with zeros;
 * beyond the maximum leaves it answers as the vendor's hardware does: zeros
 * on AMD, the highest basic leaf on Intel (Linux arch/x86/kvm/cpuid.c
 * `kvm_cpuid()`). KVM still honours its paravirtual MSRs and hypercalls when
 * they are not advertised (unless `KVM_CAP_ENFORCE_PV_FEATURE_CPUID` is
 * enabled), but only code at CPL 0 can reach them, and guest code runs at
 * CPL 3.
 *
 * What stays runtime-dependent is KVM's: it sets leaf 1 ECX.OSXSAVE from
 * CR4, leaf 1 EDX.APIC from the APIC base MSR and leaf 0xD's EBX from XCR0
 * (Linux arch/x86/kvm/cpuid.c `kvm_update_cpuid_runtime()`), so a guest
 * reading them sees the XSAVE state the backend enabled.
 */
import type { CpuidEntry } from './native.js';

/** The hypervisor leaf: EAX = the highest hypervisor leaf, EBX:ECX:EDX = the signature. */
export const HYPERVISOR_LEAF = 0x4000_0000;

/** What leaf {@link HYPERVISOR_LEAF} says in EBX, ECX, EDX (12 bytes, ASCII). */
export const HYPERVISOR_SIGNATURE = 'HyperlightTS';

/** Basic leaves the guest sees (every sub-leaf KVM reports). */
const KEPT_BASIC_LEAVES: ReadonlySet<number> = new Set([0x0, 0x1, 0x7, 0xd]);
/** Extended leaves the guest sees. */
const KEPT_EXTENDED_LEAVES: ReadonlySet<number> = new Set([0x8000_0000, 0x8000_0001, 0x8000_0008]);
const EXTENDED_BASE = 0x8000_0000;

/** `kvm_cpuid_entry2.flags`: the leaf has sub-leaves, `index` selects one. */
const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

/**
 * Leaf 1 and `0x80000001` EAX bits kept: family (11:8) and extended family
 * (27:20). Stepping (3:0), model (7:4), type (13:12) and extended model
 * (19:16) name the part, not what it can do.
 */
const SIGNATURE_FAMILY_MASK = 0x0ff0_0f00;
/** Leaf 1 EBX bits kept: the CLFLUSH line size (15:8); brand index (7:0), logical-processor count (23:16) and APIC ID (31:24) go. */
const LEAF_1_EBX_CLFLUSH_SIZE_MASK = 0x0000_ff00;

const bit = (n: number): number => 2 ** n;

/** Leaf 1 ECX bit 31: software runs under a hypervisor (leaf 0x40000000 is valid). */
const LEAF_1_ECX_HYPERVISOR = bit(31);
/**
 * Leaf 1 ECX bits cleared: VMX (5, nested virtualization is not offered),
 * SMX (6), PDCM (15, the performance-monitoring leaf 0xA is left out),
 * x2APIC (21, no in-kernel local APIC is created, so none can enter x2APIC mode).
 */
const LEAF_1_ECX_CLEARED = bit(5) | bit(6) | bit(15) | bit(21);
/** Leaf 1 EDX bits cleared: PSN (18, the serial-number leaf 3 is gone), HTT (28, one logical processor). */
const LEAF_1_EDX_CLEARED = bit(18) | bit(28);

/** Leaf 7 sub-leaf 0 EBX: SGX (2, leaf 0x12 is left out), Intel PT (25, leaf 0x14). */
const LEAF_7_0_EBX_CLEARED = bit(2) | bit(25);
/** Leaf 7 sub-leaf 0 ECX: SGX_LC (30, SGX is not offered). */
const LEAF_7_0_ECX_CLEARED = bit(30);
/** Leaf 7 sub-leaf 0 EDX: hybrid (15, leaf 0x1A), AMX-BF16 (22), AMX-TILE (24), AMX-INT8 (25): leaves 0x1D/0x1E are left out and XCR0 never enables tile state. */
const LEAF_7_0_EDX_CLEARED = bit(15) | bit(22) | bit(24) | bit(25);
/** Leaf 7 sub-leaf 1 EAX: AMX-FP16 (21). */
const LEAF_7_1_EAX_CLEARED = bit(21);
/** Leaf 7 sub-leaf 1 EDX: AMX-COMPLEX (8), AVX10 (19, leaf 0x24 is left out; the AVX-512 bits still say the same). */
const LEAF_7_1_EDX_CLEARED = bit(8) | bit(19);

/**
 * Leaf `0x80000001` ECX bits cleared: CmpLegacy (1, multi-core topology),
 * SVM (2, nested virtualization is not offered), TopologyExtensions (22,
 * leaves 0x8000001D/0x8000001E are left out).
 */
const LEAF_8000_0001_ECX_CLEARED = bit(1) | bit(2) | bit(22);

/**
 * Builds the CPUID table a guest vCPU gets from KVM's supported table (see
 * the file comment for what is kept and why). The input is not modified; the
 * result is sorted by leaf and sub-leaf.
 * @param supported The entries of `KVM_GET_SUPPORTED_CPUID`.
 * @returns Entries for `KVM_SET_CPUID2`.
 * @example
 * vcpu.setCpuid2(guestCpuid(kvm.getSupportedCpuid()));
 */
export function guestCpuid(supported: readonly CpuidEntry[]): CpuidEntry[] {
  const kept = supported
    .filter((entry) => KEPT_BASIC_LEAVES.has(entry.function) || KEPT_EXTENDED_LEAVES.has(entry.function))
    .map((entry) => ({ ...entry }));
  kept.push({
    function: HYPERVISOR_LEAF,
    index: 0,
    flags: 0,
    eax: HYPERVISOR_LEAF,
    ...signatureRegisters(HYPERVISOR_SIGNATURE),
  });
  const maxBasic = Math.max(...kept.filter((entry) => entry.function < HYPERVISOR_LEAF).map((entry) => entry.function));
  const maxExtended = Math.max(...kept.filter((entry) => entry.function >= EXTENDED_BASE).map((entry) => entry.function));
  for (const entry of kept) {
    const subLeaf = (entry.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) !== 0 ? entry.index : 0;
    switch (entry.function) {
      case 0x0:
        entry.eax = Math.min(entry.eax, maxBasic);
        break;
      case 0x1:
        entry.eax &= SIGNATURE_FAMILY_MASK;
        entry.ebx &= LEAF_1_EBX_CLFLUSH_SIZE_MASK;
        entry.ecx = (entry.ecx & ~LEAF_1_ECX_CLEARED) | LEAF_1_ECX_HYPERVISOR;
        entry.edx &= ~LEAF_1_EDX_CLEARED;
        break;
      case 0x7:
        if (subLeaf === 0) {
          entry.ebx &= ~LEAF_7_0_EBX_CLEARED;
          entry.ecx &= ~LEAF_7_0_ECX_CLEARED;
          entry.edx &= ~LEAF_7_0_EDX_CLEARED;
        } else if (subLeaf === 1) {
          entry.eax &= ~LEAF_7_1_EAX_CLEARED;
          entry.edx &= ~LEAF_7_1_EDX_CLEARED;
        }
        break;
      case 0x8000_0000:
        entry.eax = Math.min(entry.eax, maxExtended);
        break;
      case 0x8000_0001:
        entry.eax &= SIGNATURE_FAMILY_MASK;
        entry.ebx = 0;
        entry.ecx &= ~LEAF_8000_0001_ECX_CLEARED;
        break;
      case 0x8000_0008:
        entry.ecx = 0;
        break;
      default:
        break; // 0xD and the hypervisor leaf: as built
    }
    // The masks above are signed 32-bit; the table holds unsigned values.
    entry.eax >>>= 0;
    entry.ebx >>>= 0;
    entry.ecx >>>= 0;
    entry.edx >>>= 0;
  }
  return kept.sort((a, b) => a.function - b.function || a.index - b.index);
}

/** EBX, ECX, EDX holding a 12-character ASCII signature, 4 bytes each, little-endian. */
function signatureRegisters(signature: string): Pick<CpuidEntry, 'ebx' | 'ecx' | 'edx'> {
  const bytes = Buffer.from(signature, 'latin1');
  return { ebx: bytes.readUInt32LE(0), ecx: bytes.readUInt32LE(4), edx: bytes.readUInt32LE(8) };
}
