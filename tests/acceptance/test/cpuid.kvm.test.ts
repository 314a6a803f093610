// The CPUID a guest sees: enough to know which instructions work and that it
// runs under a hypervisor, nothing that identifies the host machine (brand
// string, serial number), and the hypervisor leaf names hyperlight-ts. The
// last three are backend-kvm's own CPUID table; the other backends leave
// CPUID to the hypervisor, so only the first and the last test hold there.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MultiUseSandbox } from '@hyperlight-ts/core';
import { requireBackend } from './support/backend-under-test.js';
import { forEachGuest, simpleSandbox, type GuestLanguage } from './support/guests.js';

/** The registers of one CPUID leaf. */
interface Cpuid {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

const HYPERVISOR_LEAF = 0x4000_0000;
/** Leaf 1 ECX bit 31: running under a hypervisor. */
const LEAF_1_ECX_HYPERVISOR = 2 ** 31;
/** Leaf 1 EDX bit 18: processor serial number (leaf 3) present. */
const LEAF_1_EDX_PSN = 2 ** 18;
const BRAND_LEAVES = [0x8000_0002, 0x8000_0003, 0x8000_0004];
/** Why only KVM's guests see hyperlight-ts's own CPUID answers. */
const OWN_TABLE = 'the CPUID table is backend-kvm\'s own (KVM_SET_CPUID2); the other backends pass the hypervisor\'s defaults through';

/** The 12 ASCII bytes of EBX, ECX, EDX: how the hypervisor leaf spells its signature. */
function signature({ ebx, ecx, edx }: Cpuid): string {
  const bytes = new Uint8Array(12);
  const view = new DataView(bytes.buffer);
  [ebx, ecx, edx].forEach((reg, i) => view.setUint32(i * 4, reg, true));
  return new TextDecoder('latin1').decode(bytes);
}

/** The machine's own CPU model name (what the brand string leaves would say), if /proc/cpuinfo has one. */
function hostModelName(): string | undefined {
  return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim();
}

forEachGuest('guest CPUID', (language: GuestLanguage) => {
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = simpleSandbox(language);
  });
  afterAll(() => sandbox?.dispose());

  /** The 16 bytes (EAX, EBX, ECX, EDX little-endian) of CPUID `leaf`/`subleaf` as the guest executes it. */
  function cpuidBytes(leaf: number, subleaf = 0): Uint8Array {
    const bytes = sandbox.call('Cpuid', 'bytes', leaf, subleaf);
    expect(bytes).toHaveLength(16);
    return bytes;
  }

  /** CPUID `leaf`/`subleaf` as the guest executes it. */
  function cpuid(leaf: number, subleaf = 0): Cpuid {
    const bytes = cpuidBytes(leaf, subleaf);
    const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
    return { eax: view.getUint32(0, true), ebx: view.getUint32(4, true), ecx: view.getUint32(8, true), edx: view.getUint32(12, true) };
  }

  it('leaf 1 has the hypervisor bit (ECX 31) set', () => {
    expect(cpuid(0).eax).toBeGreaterThanOrEqual(1);
    expect(cpuid(1).ecx & LEAF_1_ECX_HYPERVISOR).not.toBe(0);
  });

  it('leaf 0x40000000 carries the hyperlight-ts signature, not KVM\'s', ({ skip }) => {
    requireBackend(skip, ['kvm'], OWN_TABLE);
    const leaf = cpuid(HYPERVISOR_LEAF);
    expect(leaf.eax).toBeGreaterThanOrEqual(HYPERVISOR_LEAF);
    expect(leaf.eax).toBeLessThan(HYPERVISOR_LEAF + 0x100);
    expect(signature(leaf)).toBe('HyperlightTS');
    expect(signature(leaf)).not.toMatch(/KVMKVMKVM/);
  });

  it('no processor serial number: leaf 1 EDX.PSN clear and leaf 3 all zero', ({ skip }) => {
    requireBackend(skip, ['kvm'], OWN_TABLE);
    expect(cpuid(1).edx & LEAF_1_EDX_PSN).toBe(0);
    expect(cpuid(3)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
  });

  it('no brand string: leaves 0x80000002-0x80000004 are all zero', ({ skip }) => {
    requireBackend(skip, ['kvm'], OWN_TABLE);
    const brand = BRAND_LEAVES.map((leaf) => new TextDecoder('latin1').decode(cpuidBytes(leaf))).join('');
    const model = hostModelName();
    if (model) expect(brand).not.toContain(model.slice(0, 8));
    expect(brand).toBe('\0'.repeat(48));
  });

  it('answers the same in every call (the table is per VM, not per run)', () => {
    const first = [0, 1, 3, HYPERVISOR_LEAF, ...BRAND_LEAVES].map((leaf) => cpuid(leaf));
    const again = [0, 1, 3, HYPERVISOR_LEAF, ...BRAND_LEAVES].map((leaf) => cpuid(leaf));
    expect(again).toEqual(first);
  });
});
