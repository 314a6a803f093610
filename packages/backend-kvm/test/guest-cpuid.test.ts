import { describe, expect, it } from 'vitest';
import { guestCpuid, HYPERVISOR_LEAF, HYPERVISOR_SIGNATURE, type CpuidEntry } from '../src/index.js';

/** `KVM_CPUID_FLAG_SIGNIFCANT_INDEX`. */
const INDEXED = 1;

function leaf(fn: number, index: number, flags: number, eax: number, ebx: number, ecx: number, edx: number): CpuidEntry {
  return { function: fn, index, flags, eax, ebx, ecx, edx };
}

/** The 12 bytes of EBX, EDX, ECX (leaf 0's order) or EBX, ECX, EDX as text. */
function text(...registers: number[]): string {
  const bytes = Buffer.alloc(registers.length * 4);
  registers.forEach((value, i) => bytes.writeUInt32LE(value >>> 0, i * 4));
  return bytes.toString('latin1');
}

function find(table: readonly CpuidEntry[], fn: number, index = 0): CpuidEntry | undefined {
  return table.find((entry) => entry.function === fn && entry.index === index);
}

/**
 * Shaped like KVM_GET_SUPPORTED_CPUID on an Intel host (Linux 6.x, an Ice
 * Lake-like part with nested VMX enabled): identity and topology leaves,
 * KVM's paravirt leaves, and feature bits this module clears.
 */
const INTEL: readonly CpuidEntry[] = [
  leaf(0x0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69), // GenuineIntel, max basic 0x1f
  leaf(0x1, 0, 0, 0x000606a6, 0x2b100800, 0xf7fa3223 | 0x8000, 0x1f8bfbff | (1 << 18) | (1 << 28)), // + PDCM, PSN, HTT
  leaf(0x2, 0, 0, 0x00feff01, 0, 0, 0x00ff0000),
  leaf(0x3, 0, 0, 0, 0, 0x1234abcd, 0x5678ef01), // serial number
  leaf(0x4, 0, INDEXED, 0x1c004121, 0x02c0003f, 0x3f, 0),
  leaf(0x4, 1, INDEXED, 0x1c004122, 0x01c0003f, 0x3f, 0),
  leaf(0x6, 0, 0, 0x4, 0, 0, 0),
  // + SGX, Intel PT; SGX_LC; hybrid, AMX-BF16, AMX-TILE, AMX-INT8
  leaf(0x7, 0, INDEXED, 0x2, 0xf1bfbfbb | (1 << 2) | (1 << 25), 0x40417f5e | (1 << 30), 0xbc000410 | (1 << 15) | (1 << 22) | (1 << 24) | (1 << 25)),
  leaf(0x7, 1, INDEXED, (1 << 4) | (1 << 21), 0, 0, (1 << 4) | (1 << 8) | (1 << 19)), // + AMX-FP16, AMX-COMPLEX, AVX10
  leaf(0x7, 2, INDEXED, 0, 0, 0, 0x17),
  leaf(0xb, 0, INDEXED, 0x1, 0x1, 0x100, 0x2a),
  leaf(0xd, 0, INDEXED, 0x2e7, 0x340, 0xa88, 0),
  leaf(0xd, 1, INDEXED, 0xf, 0x340, 0x100, 0),
  leaf(0xd, 2, INDEXED, 0x100, 0x240, 0, 0),
  leaf(0xd, 5, INDEXED, 0x40, 0x440, 0, 0),
  leaf(0xd, 6, INDEXED, 0x200, 0x480, 0, 0),
  leaf(0xd, 7, INDEXED, 0x400, 0x680, 0, 0),
  leaf(0xd, 9, INDEXED, 0x8, 0xa80, 0, 0),
  leaf(0x1f, 0, INDEXED, 0x1, 0x1, 0x100, 0x2a),
  leaf(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d), // KVMKVMKVM\0\0\0
  leaf(0x40000001, 0, 0, 0x01007afb, 0, 0, 0),
  leaf(0x80000000, 0, 0, 0x80000008, 0, 0, 0),
  leaf(0x80000001, 0, 0, 0, 0, 0x121, 0x2c100800),
  leaf(0x80000002, 0, 0, 0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e), // Intel(R) Xeon(R)
  leaf(0x80000003, 0, 0, 0x616c5020, 0x756e6974, 0x3338206d, 0x43203038),
  leaf(0x80000004, 0, 0, 0x40205550, 0x302e3220, 0x7a484730, 0),
  leaf(0x80000006, 0, 0, 0, 0, 0x01007040, 0),
  leaf(0x80000007, 0, 0, 0, 0, 0, 0x100),
  leaf(0x80000008, 0, 0, 0x3030, 0x200, 0, 0),
];

/** Shaped like KVM_GET_SUPPORTED_CPUID on an AMD Zen 3 host with nested SVM. */
const AMD: readonly CpuidEntry[] = [
  leaf(0x0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65), // AuthenticAMD
  leaf(0x1, 0, 0, 0x00a20f12, 0x00100800, 0xf6f83203, 0x178bfbff),
  leaf(0x7, 0, INDEXED, 0, 0x219c07a9, 0x0040068c, 0x10),
  leaf(0xd, 0, INDEXED, 0x7, 0x340, 0x340, 0),
  leaf(0xd, 1, INDEXED, 0xf, 0x340, 0, 0),
  leaf(0xd, 2, INDEXED, 0x100, 0x240, 0, 0),
  leaf(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
  leaf(0x40000001, 0, 0, 0x01007afb, 0, 0, 0),
  leaf(0x80000000, 0, 0, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65),
  leaf(0x80000001, 0, 0, 0x00a20f12, 0x20000000, 0x75c237ff, 0x2fd3fbff), // SVM, CmpLegacy, TopoExt set
  leaf(0x80000002, 0, 0, 0x20444d41, 0x657a7952, 0x2039206e, 0x30353935),
  leaf(0x80000005, 0, 0, 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140),
  leaf(0x80000008, 0, 0, 0x3030, 0x111ef657, 0x700f, 0),
  leaf(0x8000000a, 0, 0, 0x1, 0x8000, 0, 0x10bbff),
  leaf(0x8000001d, 0, INDEXED, 0x4121, 0x1c0003f, 0x3f, 0),
  leaf(0x8000001e, 0, 0, 0, 0x100, 0, 0),
  leaf(0x80000021, 0, 0, 0x45, 0, 0, 0),
];

describe('guestCpuid', () => {
  it('keeps leaves 0, 1, 7, 0xD (every sub-leaf), 0x80000000, 0x80000001, 0x80000008, and adds the hypervisor leaf', () => {
    const leaves = (table: readonly CpuidEntry[]) => table.map((entry) => [entry.function, entry.index]);
    expect(leaves(guestCpuid(INTEL))).toEqual([
      [0x0, 0], [0x1, 0], [0x7, 0], [0x7, 1], [0x7, 2],
      [0xd, 0], [0xd, 1], [0xd, 2], [0xd, 5], [0xd, 6], [0xd, 7], [0xd, 9],
      [0x40000000, 0], [0x80000000, 0], [0x80000001, 0], [0x80000008, 0],
    ]);
    expect(leaves(guestCpuid(AMD))).toEqual([
      [0x0, 0], [0x1, 0], [0x7, 0], [0xd, 0], [0xd, 1], [0xd, 2],
      [0x40000000, 0], [0x80000000, 0], [0x80000001, 0], [0x80000008, 0],
    ]);
  });

  it('leaf 0 keeps the vendor and says 0xD is the highest basic leaf', () => {
    for (const [host, vendor] of [[INTEL, 'GenuineIntel'], [AMD, 'AuthenticAMD']] as const) {
      const leaf0 = find(guestCpuid(host), 0)!;
      expect(leaf0.eax).toBe(0xd);
      expect(text(leaf0.ebx, leaf0.edx, leaf0.ecx)).toBe(vendor);
    }
  });

  it('the maximum leaves follow what is kept, never above what the host reports', () => {
    const withoutXsave = INTEL.filter((entry) => entry.function !== 0xd);
    expect(find(guestCpuid(withoutXsave), 0)!.eax).toBe(7);
    const oldHost = INTEL.map((entry) => (entry.function === 0 ? { ...entry, eax: 0xb } : entry)).filter((entry) => entry.function <= 0xb || entry.function >= HYPERVISOR_LEAF);
    expect(find(guestCpuid(oldHost), 0)!.eax).toBe(0x7);
    expect(find(guestCpuid(INTEL), 0x80000000)!.eax).toBe(0x80000008);
    const noAddressSizes = AMD.filter((entry) => entry.function !== 0x80000008);
    expect(find(guestCpuid(noAddressSizes), 0x80000000)!.eax).toBe(0x80000001);
  });

  it('leaf 1: family kept, model and stepping zeroed; EBX keeps only the CLFLUSH size', () => {
    const intel = find(guestCpuid(INTEL), 1)!;
    expect(intel.eax).toBe(0x00000600); // family 6 (model 0x6a, stepping 6 gone)
    expect(intel.ebx).toBe(0x00000800); // 8 × 8 = 64-byte lines; APIC ID 0x2b, count 0x10 gone
    const amd = find(guestCpuid(AMD), 1)!;
    expect(amd.eax).toBe(0x00a00f00); // family 0xf + extended 0xa = 0x19 (model 0x21, stepping 2 gone)
    expect(amd.ebx).toBe(0x00000800);
  });

  it('leaf 1 features: hypervisor set; VMX, SMX, PDCM, x2APIC, PSN and HTT cleared; the rest as supported', () => {
    const before = find(INTEL, 1)!;
    const after = find(guestCpuid(INTEL), 1)!;
    const ecxCleared = (1 << 5) | (1 << 6) | (1 << 15) | (1 << 21);
    expect(after.ecx).toBe((((before.ecx & ~ecxCleared) | (1 << 31)) >>> 0));
    expect(after.ecx & (1 << 26)).not.toBe(0); // XSAVE stays: the backend enables it
    expect(after.ecx & (1 << 27)).toBe(0); // OSXSAVE is KVM's to set from CR4
    expect(after.edx).toBe((before.edx & ~((1 << 18) | (1 << 28))) >>> 0);
    expect(after.edx & 0x1).toBe(1); // FPU
  });

  it('leaf 7: every sub-leaf and its flags kept; SGX, Intel PT, hybrid, AMX and AVX10 cleared', () => {
    const table = guestCpuid(INTEL);
    const sub0 = find(table, 7, 0)!;
    expect(sub0.flags).toBe(INDEXED);
    expect(sub0.eax).toBe(2);
    expect(sub0.ebx).toBe(0xf1bfbfbb); // the fixture adds SGX and Intel PT to this
    expect(sub0.ebx & (1 << 16)).not.toBe(0); // AVX512F
    expect(sub0.ecx).toBe(0x40417f5e & ~(1 << 30));
    expect(sub0.edx).toBe(0xbc000410);
    const sub1 = find(table, 7, 1)!;
    expect([sub1.eax, sub1.edx]).toEqual([1 << 4, 1 << 4]); // AVX-VNNI and AVX-VNNI-INT8 stay
    expect(find(table, 7, 2)).toEqual(find(INTEL, 7, 2));
    expect(find(guestCpuid(AMD), 7, 0)).toEqual(find(AMD, 7, 0));
  });

  it('leaf 0xD: every sub-leaf as supported (KVM sizes the XSAVE area from them)', () => {
    for (const host of [INTEL, AMD]) {
      expect(guestCpuid(host).filter((entry) => entry.function === 0xd)).toEqual(host.filter((entry) => entry.function === 0xd));
    }
  });

  it('one hypervisor leaf 0x40000000 says "HyperlightTS" and no more leaves; KVM\'s are gone', () => {
    const table = guestCpuid(INTEL);
    const hypervisor = table.filter((entry) => entry.function >= HYPERVISOR_LEAF && entry.function < 0x80000000);
    expect(hypervisor).toHaveLength(1);
    const [entry] = hypervisor;
    expect(entry).toMatchObject({ function: 0x40000000, index: 0, flags: 0, eax: 0x40000000 });
    expect(text(entry!.ebx, entry!.ecx, entry!.edx)).toBe(HYPERVISOR_SIGNATURE);
    expect(HYPERVISOR_SIGNATURE).toBe('HyperlightTS');
    // A table without KVM's leaves gets the hypervisor leaf all the same.
    expect(find(guestCpuid(INTEL.filter((e) => e.function < HYPERVISOR_LEAF)), HYPERVISOR_LEAF)).toEqual(entry);
  });

  it('0x80000001: features kept except SVM, CmpLegacy, TopologyExtensions; AMD brand id and model gone', () => {
    const intel = find(guestCpuid(INTEL), 0x80000001)!;
    expect(intel).toEqual(find(INTEL, 0x80000001)); // LAHF, LZCNT, PREFETCHW; SYSCALL, NX, 1 GiB pages, RDTSCP, LM
    const before = find(AMD, 0x80000001)!;
    const amd = find(guestCpuid(AMD), 0x80000001)!;
    expect(amd.eax).toBe(0x00a00f00);
    expect(amd.ebx).toBe(0);
    expect(amd.ecx).toBe((before.ecx & ~((1 << 1) | (1 << 2) | (1 << 22))) >>> 0);
    expect(amd.edx).toBe(before.edx);
    expect(amd.edx & (1 << 29)).not.toBe(0); // LM
  });

  it('0x80000000 keeps AMD\'s repeated vendor; 0x80000008 keeps the address sizes and drops the core count', () => {
    const table = guestCpuid(AMD);
    const ext = find(table, 0x80000000)!;
    expect(ext.eax).toBe(0x80000008);
    expect(text(ext.ebx, ext.edx, ext.ecx)).toBe('AuthenticAMD');
    expect(find(table, 0x80000008)).toEqual({ ...find(AMD, 0x80000008)!, ecx: 0 });
  });

  it('returns unsigned 32-bit values and leaves its input alone', () => {
    const copy = structuredClone(INTEL);
    const table = guestCpuid(INTEL);
    expect(INTEL).toEqual(copy);
    for (const entry of table) {
      for (const value of [entry.eax, entry.ebx, entry.ecx, entry.edx]) {
        expect(Number.isInteger(value) && value >= 0 && value <= 0xffffffff).toBe(true);
      }
    }
  });
});
