/**
 * `VirtualMachine.mapRegion()` on KVM: a real-mode guest in main memory reads
 * and writes a region at guest-physical 0x20000 (DS = 0x2000), past the VM's
 * 64 KiB of main memory.
 */
import { describe, expect, it } from 'vitest';
import { loadNative } from '../src/index.js';
import { kvmUsable, loadRealModeGuest, resources, vmsDisposedAfterEach } from './helpers/kvm.js';

const MEMORY_SIZE = 0x10000;
const REGION_GPA = 0x20000n;
const REGION_SIZE = 0x1000;

/** Reads the region's byte 0x10 out to port 0x10, then writes 0x99 to its byte 0x20. */
const READ_THEN_WRITE = [
  0xb8, 0x00, 0x20, //             mov ax, 0x2000
  0x8e, 0xd8, //                   mov ds, ax      (ds base 0x20000)
  0xa0, 0x10, 0x00, //             mov al, [0x10]
  0xe6, 0x10, //                   out 0x10, al
  0xc6, 0x06, 0x20, 0x00, 0x99, // mov byte [0x20], 0x99
  0xf4, //                         hlt
];

describe.skipIf(!kvmUsable)('mapRegion on KVM (needs /dev/kvm)', () => {
  const { createVm } = vmsDisposedAfterEach(MEMORY_SIZE);
  const out = (value: number) => ({ kind: 'io-out', port: 0x10, size: 1, value });

  it('a zeroed region reads as zeros, and guest and host share its bytes', () => {
    const vm = createVm();
    const region = vm.mapRegion({ gpa: REGION_GPA, size: REGION_SIZE });
    const entry = loadRealModeGuest(vm, 0x1000, READ_THEN_WRITE);
    expect(vm.run(entry)).toEqual(out(0));
    expect(vm.run()).toEqual({ kind: 'halt' });
    const bytes = new Uint8Array(region.memory);
    expect(bytes[0x20]).toBe(0x99);
    bytes[0x10] = 0x5a;
    expect(vm.run(entry)).toEqual(out(0x5a));
  });

  it('a region from a snapshot shows its bytes; guest writes stay private to the region', () => {
    const vm = createVm();
    const { GuestMemory } = loadNative();
    using image = new GuestMemory(REGION_SIZE);
    new Uint8Array(image.buffer)[0x10] = 0x42;
    using snapshot = image.snapshot();
    const region = vm.mapRegion({ gpa: REGION_GPA, size: REGION_SIZE, source: snapshot });
    expect(vm.run(loadRealModeGuest(vm, 0x1000, READ_THEN_WRITE))).toEqual(out(0x42));
    expect(vm.run()).toEqual({ kind: 'halt' });
    expect(new Uint8Array(region.memory)[0x20]).toBe(0x99);
    const fromSnapshot = new Uint8Array(1);
    snapshot.read(0x20, fromSnapshot);
    expect(fromSnapshot[0]).toBe(0);
  });

  it('a read-only region: the guest reads it, and its write is a memory fault that changes nothing', () => {
    const vm = createVm();
    const region = vm.mapRegion({ gpa: REGION_GPA, size: REGION_SIZE, readOnly: true });
    const bytes = new Uint8Array(region.memory);
    bytes[0x10] = 0x33;
    bytes[0x20] = 0x44;
    expect(vm.run(loadRealModeGuest(vm, 0x1000, READ_THEN_WRITE))).toEqual(out(0x33));
    expect(vm.run()).toEqual({ kind: 'memory-fault', gpa: REGION_GPA + 0x20n, access: 'write', unmapped: false });
    expect(bytes[0x20]).toBe(0x44);
    expect(vm.run()).toEqual({ kind: 'halt' });
    expect(bytes[0x20]).toBe(0x44);
  });

  it('after dispose() the guest faults on the range as unmapped, and the region memory is gone', () => {
    const before = resources();
    const vm = createVm();
    const region = vm.mapRegion({ gpa: REGION_GPA, size: REGION_SIZE });
    const entry = loadRealModeGuest(vm, 0x1000, READ_THEN_WRITE);
    expect(vm.run(entry)).toEqual(out(0));
    expect(vm.run()).toEqual({ kind: 'halt' });
    region.dispose();
    expect(region.memory.byteLength).toBe(0);
    expect(vm.run(entry)).toEqual({ kind: 'memory-fault', gpa: REGION_GPA + 0x10n, access: 'read', unmapped: true });
    expect(vm.run()).toEqual(out(0));
    expect(vm.run()).toEqual({ kind: 'memory-fault', gpa: REGION_GPA + 0x20n, access: 'write', unmapped: true });
    expect(vm.run()).toEqual({ kind: 'halt' });
    // The slot is free again, and the VM's dispose releases a region mapped in it.
    vm.mapRegion({ gpa: REGION_GPA, size: REGION_SIZE });
    vm.dispose();
    expect(resources()).toMatchObject({ memfds: before.memfds, memoryMappings: before.memoryMappings, vmFds: before.vmFds });
  });
});
