import { describe, expect, it } from 'vitest';
import { loadNative } from '../../src/index.js';
import { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { guestMemoryMappingCount, kvmUsable, openFdCount } from '../helpers/kvm.js';

describe.skipIf(!kvmUsable)('VmFd (needs /dev/kvm)', () => {
  const addon = kvmUsable ? loadNative() : undefined!;
  const kvm = kvmUsable ? new addon.Kvm() : undefined!;

  it('maps a GuestMemory, whole or in part, at page-aligned guest-physical addresses', () => {
    using vm = kvm.createVm();
    using memory = new addon.GuestMemory(0x10000);
    vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory, memorySize: 0x8000 });
    vm.setUserMemoryRegion({ slot: 1, baseGpa: 0x100000n, memory, memoryOffset: 0x8000 });
    vm.setUserMemoryRegion({ slot: 1, baseGpa: 0x100000n, memory, memorySize: 0 }); // deletes slot 1
  });

  it('refuses anything but a live GuestMemory', () => {
    using vm = kvm.createVm();
    const memory = new addon.GuestMemory(0x1000);
    const lookalike = { buffer: memory.buffer, memorySize: 0x1000, dispose() {} };
    expect(() => vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory: lookalike as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', message: 'VmFd.setUserMemoryRegion(): memory must be a GuestMemory' }),
    );
    memory.dispose();
    expect(() => vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory })).toThrow(
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED', message: 'VmFd.setUserMemoryRegion: the GuestMemory was disposed' }),
    );
  });

  it('refuses misaligned or out-of-range regions before calling KVM', () => {
    using vm = kvm.createVm();
    using memory = new addon.GuestMemory(0x2000);
    const rangeError = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(() => vm.setUserMemoryRegion({ slot: 0, baseGpa: 0x800, memory })).toThrow(rangeError);
    expect(() => vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory, memoryOffset: 0x1000, memorySize: 0x2000 })).toThrow(
      /exceeds the GuestMemory's 8192 bytes/,
    );
    expect(() => vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory, memorySize: 0x3000 })).toThrow(rangeError);
    expect(() => vm.setUserMemoryRegion({ slot: -1, baseGpa: 0, memory })).toThrow(rangeError);
  });

  it('reports what KVM refuses as a system error', () => {
    using vm = kvm.createVm();
    using memory = new addon.GuestMemory(0x2000);
    vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
    // A second slot overlapping the first.
    expect(() => vm.setUserMemoryRegion({ slot: 1, baseGpa: 0x1000, memory })).toThrow(
      expect.objectContaining({
        code: 'EEXIST',
        errno: -17,
        syscall: 'KVM_SET_USER_MEMORY_REGION',
        message: 'KVM_SET_USER_MEMORY_REGION failed: EEXIST (File exists)',
      }),
    );
    using vcpu = vm.createVcpu(0);
    expect(() => vm.createVcpu(0)).toThrow(expect.objectContaining({ code: 'EEXIST', syscall: 'KVM_CREATE_VCPU' }));
    expect(vcpu).toBeDefined();
  });

  it('keeps guest memory mapped until the VM and its vCPUs are gone', () => {
    const mappings = guestMemoryMappingCount();
    const vm = kvm.createVm();
    const memory = new addon.GuestMemory(0x4000);
    vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
    const vcpu = vm.createVcpu(0);
    const view = new Uint8Array(memory.buffer);

    memory.dispose();
    expect(view.length).toBe(0); // JS lost access at once...
    expect(guestMemoryMappingCount()).toBe(mappings + 1); // ...but the VM still maps it
    vm.dispose();
    expect(guestMemoryMappingCount()).toBe(mappings + 1); // the vCPU keeps the kernel VM alive
    vcpu.dispose();
    expect(guestMemoryMappingCount()).toBe(mappings);
  });

  it('closes its fd on dispose()', () => {
    const before = openFdCount();
    const vm = kvm.createVm();
    expect(openFdCount()).toBe(before + 1);
    vm.dispose();
    expect(openFdCount()).toBe(before);
  });

  it('every method throws ERR_HYPERLIGHT_DISPOSED after dispose(); dispose() is idempotent', () => {
    const vm = kvm.createVm();
    vm.dispose();
    vm.dispose();
    vm[Symbol.dispose]();
    const checked = expectEveryMemberDisposed(vm, addon.VmFd.prototype, 'VmFd');
    expect(checked).toEqual(expect.arrayContaining(['setUserMemoryRegion', 'createVcpu']));
  });
});
