import type { VirtualMachine } from '@hyperlight-ts/core';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backend, guestCpuid, HYPERVISOR_SIGNATURE, KVM, loadNative, type CpuidEntry, type Kvm } from '../src/index.js';
import { kvmUsable, loadRealModeGuest } from './helpers/kvm.js';

const MEMORY_SIZE = 0x10000;
const CODE_GPA = 0x1000;
const CPUID_HLT = [0x0f, 0xa2, 0xf4]; // cpuid; hlt
const XGETBV_HLT = [0x0f, 0x01, 0xd0, 0xf4]; // xgetbv (ecx = 0: XCR0); hlt
const CR4_OSXSAVE = 1n << 18n;
const LEAF_1_ECX_XSAVE = 1 << 26;
const LEAF_1_ECX_OSXSAVE = 1 << 27;
const LEAF_1_EDX_APIC = 1 << 9;

type Answer = Pick<CpuidEntry, 'eax' | 'ebx' | 'ecx' | 'edx'>;

function text(...registers: number[]): string {
  const bytes = Buffer.alloc(registers.length * 4);
  registers.forEach((value, i) => bytes.writeUInt32LE(value, i * 4));
  return bytes.toString('latin1');
}

describe.skipIf(!kvmUsable)('the CPUID a guest sees (needs /dev/kvm)', () => {
  const kvm: Kvm = kvmUsable ? new (loadNative().Kvm)() : undefined!;
  const supported = kvmUsable ? kvm.getSupportedCpuid() : [];
  const machines: VirtualMachine[] = [];
  afterEach(() => {
    for (const vm of machines.splice(0)) vm.dispose();
  });
  afterAll(() => kvm?.dispose());

  function createVm(): VirtualMachine {
    const vm = backend.createVm({ memorySize: MEMORY_SIZE });
    machines.push(vm);
    return vm;
  }

  /** Runs `cpuid` in real mode with EAX = `leaf`, ECX = `subLeaf`. */
  function cpuid(vm: VirtualMachine, leaf: number, subLeaf = 0): Answer {
    const entry = loadRealModeGuest(vm, CODE_GPA, CPUID_HLT);
    expect(vm.run({ ...entry, rax: BigInt(leaf), rcx: BigInt(subLeaf) })).toEqual({ kind: 'halt' });
    const regs = vm.getRegisters();
    const low = (value: bigint): number => Number(value & 0xffff_ffffn);
    return { eax: low(regs.rax), ebx: low(regs.rbx), ecx: low(regs.rcx), edx: low(regs.rdx) };
  }

  const zeros: Answer = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

  it('has no brand string, no serial number, no cache or topology leaves', () => {
    const vm = createVm();
    for (const leaf of [0x2, 0x3, 0x4, 0xb, 0x80000002, 0x80000003, 0x80000004, 0x80000005, 0x80000006]) {
      expect({ leaf: leaf.toString(16), ...cpuid(vm, leaf) }).toEqual({ leaf: leaf.toString(16), ...zeros });
    }
  });

  it('leaf 1: hypervisor bit set; model, stepping, APIC ID and brand index zero; CLFLUSH size kept', () => {
    const vm = createVm();
    const leaf1 = cpuid(vm, 1);
    expect(leaf1.ecx >>> 31).toBe(1);
    expect(leaf1.eax & ~0x0ff0_0f00).toBe(0);
    expect(leaf1.ebx & ~0x0000_ff00).toBe(0);
    const host = supported.find((entry) => entry.function === 1)!;
    expect([leaf1.eax, leaf1.ebx & 0xff00]).toEqual([host.eax & 0x0ff0_0f00, host.ebx & 0xff00]);
  });

  it('0x40000000 says "HyperlightTS" and is the last hypervisor leaf; KVM\'s feature leaf is not offered', () => {
    const vm = createVm();
    const leaf = cpuid(vm, 0x40000000);
    expect(leaf.eax).toBe(0x40000000);
    expect(text(leaf.ebx, leaf.ecx, leaf.edx)).toBe(HYPERVISOR_SIGNATURE);
    // Beyond the last leaf: zeros for AMD, the highest basic leaf for Intel (SDM vol 2A, CPUID).
    const leaf0 = cpuid(vm, 0);
    const amd = ['AuthenticAMD', 'HygonGenuine'].includes(text(leaf0.ebx, leaf0.edx, leaf0.ecx));
    expect(cpuid(vm, 0x40000001)).toEqual(amd ? zeros : cpuid(vm, leaf0.eax));
  });

  it('answers every leaf of guestCpuid(supported) as built (bar the bits KVM keeps current), and no other', () => {
    const vm = createVm();
    const table = guestCpuid(supported);
    const functions = table.map((entry) => entry.function);
    expect(cpuid(vm, 0).eax).toBe(Math.max(...functions.filter((fn) => fn < 0x40000000)));
    expect(cpuid(vm, 0x80000000).eax).toBe(Math.max(...functions));
    for (const entry of table) {
      const seen = cpuid(vm, entry.function, entry.index);
      const expected: Answer = { eax: entry.eax, ebx: entry.ebx, ecx: entry.ecx, edx: entry.edx };
      if (entry.function === 1) {
        // KVM sets OSXSAVE from CR4 and APIC from the APIC base MSR (kvm_update_cpuid_runtime()).
        seen.ecx &= ~LEAF_1_ECX_OSXSAVE;
        expected.ecx &= ~LEAF_1_ECX_OSXSAVE;
        seen.edx &= ~LEAF_1_EDX_APIC;
        expected.edx &= ~LEAF_1_EDX_APIC;
      }
      if (entry.function === 0xd && entry.index <= 1) {
        seen.ebx = expected.ebx = 0; // the XSAVE size for the current XCR0 (and XSS)
      }
      expect({ leaf: entry.function.toString(16), index: entry.index, ...seen }).toEqual({
        leaf: entry.function.toString(16), index: entry.index, ...expected,
      });
    }
    // Leaves in range that are not in the table answer zeros, e.g. 5 (MONITOR) and 6 (power).
    expect([cpuid(vm, 5), cpuid(vm, 6), cpuid(vm, 0x80000007)]).toEqual([zeros, zeros, zeros]);
  });

  it('enables XSAVE whenever the supported CPUID would have, and the guest can use it', () => {
    // What createVm decided before the minimal CPUID: XCRs, XSAVE in the stored leaf 1, x87|SSE in leaf 0xD.
    using vmFd = kvm.createVm();
    using vcpu = vmFd.createVcpu(0);
    vcpu.setCpuid2(supported);
    const storedLeaf1 = vcpu.getCpuid2().find((entry) => entry.function === 1)!;
    const xstate = supported.find((entry) => entry.function === 0xd && entry.index === 0);
    const expected =
      kvm.checkExtension(KVM.KVM_CAP_XCRS) > 0 && (storedLeaf1.ecx & LEAF_1_ECX_XSAVE) !== 0 && ((xstate?.eax ?? 0) & 0x3) === 0x3;

    const vm = createVm();
    expect(vm.xsaveEnabled).toBe(expected);
    if (!vm.xsaveEnabled) return;
    // KVM accepts CR4.OSXSAVE only when the guest's CPUID has XSAVE; then leaf 1 says OSXSAVE and
    // xgetbv reads the XCR0 the backend set (x87 | SSE at least).
    const entry = loadRealModeGuest(vm, CODE_GPA, XGETBV_HLT);
    const sregs = vm.getSpecialRegisters();
    vm.setSpecialRegisters({ ...sregs, cr4: sregs.cr4 | CR4_OSXSAVE });
    expect(vm.run(entry)).toEqual({ kind: 'halt' });
    expect(vm.getRegisters().rax & 0x3n).toBe(0x3n);
    expect(cpuid(vm, 1).ecx & LEAF_1_ECX_OSXSAVE).not.toBe(0);
    expect(vm.getFpuState().byteLength).toBeGreaterThanOrEqual(576); // legacy area + XSAVE header
  });
});
