import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { Registers, SpecialRegisters, VirtualMachine } from '@hyperlight-ts/core';
import { afterEach } from 'vitest';
import { backend } from '../../src/index.js';

/**
 * Whether KVM works here; *.kvm.test.ts files use `describe.skipIf(!kvmUsable)`.
 * CI sets HYPERLIGHT_REQUIRE_HYPERVISOR=1 where /dev/kvm works: then an
 * unusable backend fails the run instead of skipping it.
 */
export const kvmStatus = backend.check();
export const kvmUsable = kvmStatus.usable;
if (!kvmStatus.usable && process.env.HYPERLIGHT_REQUIRE_HYPERVISOR === '1') {
  throw new Error(`HYPERLIGHT_REQUIRE_HYPERVISOR=1 but KVM is not usable: ${kvmStatus.reason}: ${kvmStatus.detail}`);
}

/** Open file descriptors of this (forked) test process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Mappings of guest memory (memfds named by GuestMemory) in this process. */
export function guestMemoryMappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes('memfd:hyperlight-guest-memory')).length;
}

/** File descriptors and mappings of this process, with KVM's counted by kind. */
export interface Resources {
  fds: number;
  devKvm: number;
  vmFds: number;
  vcpuFds: number;
  memfds: number;
  /** Mappings of guest memory. */
  memoryMappings: number;
  /** Mappings of a vCPU's kvm_run. */
  runMappings: number;
}

/** What this process holds right now, for exact "nothing leaked" checks. */
export function resources(): Resources {
  const fds = readdirSync('/proc/self/fd');
  const counts: Resources = { fds: fds.length, devKvm: 0, vmFds: 0, vcpuFds: 0, memfds: 0, memoryMappings: 0, runMappings: 0 };
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // readdirSync's own fd, closed by now
    }
    if (target === '/dev/kvm') counts.devKvm++;
    else if (target === 'anon_inode:kvm-vm') counts.vmFds++;
    else if (target.startsWith('anon_inode:kvm-vcpu:')) counts.vcpuFds++;
    else if (target.startsWith('/memfd:hyperlight-guest-memory')) counts.memfds++;
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    if (line.includes('/memfd:hyperlight-guest-memory')) counts.memoryMappings++;
    else if (line.includes('anon_inode:kvm-vcpu:')) counts.runMappings++;
  }
  return counts;
}

/** All-zero registers with `rip` and RFLAGS bit 1 (always set). */
export function registersAt(rip: number, overrides: Partial<Registers> = {}): Registers {
  return {
    rax: 0n, rbx: 0n, rcx: 0n, rdx: 0n, rsi: 0n, rdi: 0n, rsp: 0n, rbp: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: BigInt(rip), rflags: 0x2n, ...overrides,
  };
}

/** Real mode with CS base 0, so `rip` is a guest-physical address (the reset CS base is 0xffff0000). */
export function realModeSregs(sregs: SpecialRegisters): SpecialRegisters {
  return { ...sregs, cs: { ...sregs.cs, base: 0n, selector: 0 } };
}

/** Writes `code` at guest-physical `gpa` and prepares the VM to run it in real mode. */
export function loadRealModeGuest(vm: VirtualMachine, gpa: number, code: readonly number[]): Registers {
  new Uint8Array(vm.memory).set(code, gpa);
  vm.setSpecialRegisters(realModeSregs(vm.getSpecialRegisters()));
  return registersAt(gpa);
}

/**
 * For use inside a `describe`: `createVm()` makes VMs of `memorySize` bytes,
 * and every VM it made or `track` was given is disposed after each test.
 */
export function vmsDisposedAfterEach(memorySize: number): { createVm(): VirtualMachine; track(vm: VirtualMachine): void } {
  const machines: VirtualMachine[] = [];
  afterEach(() => {
    for (const vm of machines.splice(0)) vm.dispose();
  });
  return {
    createVm: () => {
      const vm = backend.createVm({ memorySize });
      machines.push(vm);
      return vm;
    },
    track: (vm) => void machines.push(vm),
  };
}
