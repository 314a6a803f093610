import { describe, expect, it } from 'vitest';
import { KVM, loadNative } from '../../src/index.js';
import { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { kvmUsable } from '../helpers/kvm.js';

describe.skipIf(!kvmUsable)('Kvm (needs /dev/kvm)', () => {
  const addon = kvmUsable ? loadNative() : undefined!;

  it('KVM_GET_API_VERSION is 12', () => {
    using kvm = new addon.Kvm();
    expect(kvm.getApiVersion()).toBe(KVM.KVM_API_VERSION);
  });

  it('KVM_CHECK_EXTENSION reports sync_regs and immediate_exit, and 0 for an unknown capability', () => {
    using kvm = new addon.Kvm();
    expect(kvm.checkExtension(KVM.KVM_CAP_SYNC_REGS) & KVM.KVM_SYNC_X86_REGS).toBe(KVM.KVM_SYNC_X86_REGS);
    expect(kvm.checkExtension(KVM.KVM_CAP_IMMEDIATE_EXIT)).toBeGreaterThan(0);
    expect(kvm.checkExtension(0x7fff_fff0)).toBe(0);
    expect(() => kvm.checkExtension(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('KVM_GET_VCPU_MMAP_SIZE is whole pages', () => {
    using kvm = new addon.Kvm();
    const size = kvm.getVcpuMmapSize();
    expect(size).toBeGreaterThanOrEqual(4096);
    expect(size % 4096).toBe(0);
  });

  it('KVM_GET_SUPPORTED_CPUID has the basic leaves', () => {
    using kvm = new addon.Kvm();
    const cpuid = kvm.getSupportedCpuid();
    const leaf0 = cpuid.find((entry) => entry.function === 0);
    expect(leaf0?.eax).toBeGreaterThanOrEqual(1);
    expect(cpuid.some((entry) => entry.function === 1)).toBe(true);
  });

  it('open failures are Node-style system errors', () => {
    expect(() => new addon.Kvm('/nonexistent/kvm')).toThrow(
      expect.objectContaining({
        code: 'ENOENT',
        errno: -2,
        syscall: 'open',
        path: '/nonexistent/kvm',
        message: 'open /nonexistent/kvm failed: ENOENT (No such file or directory)',
      }),
    );
  });

  it('VmFd and VcpuFd come only from createVm / createVcpu', () => {
    const VmFd = addon.VmFd as unknown as new () => unknown;
    const VcpuFd = addon.VcpuFd as unknown as new () => unknown;
    expect(() => new VmFd()).toThrow(/use Kvm\.createVm\(\)/);
    expect(() => new VcpuFd()).toThrow(/use VmFd\.createVcpu\(\)/);
  });

  it('every method throws ERR_HYPERLIGHT_DISPOSED after dispose(); dispose() is idempotent', () => {
    const kvm = new addon.Kvm();
    kvm.dispose();
    kvm.dispose();
    kvm[Symbol.dispose]();
    const checked = expectEveryMemberDisposed(kvm, addon.Kvm.prototype, 'Kvm');
    expect(checked).toEqual(
      expect.arrayContaining(['getApiVersion', 'checkExtension', 'getVcpuMmapSize', 'getSupportedCpuid', 'createVm']),
    );
  });

  it('a VM outlives the Kvm fd that created it', () => {
    const kvm = new addon.Kvm();
    using vm = kvm.createVm();
    kvm.dispose();
    using vcpu = vm.createVcpu(0);
    expect(vcpu.getRegs().rflags).toBe(0x2n);
  });
});
