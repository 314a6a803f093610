/**
 * A sandbox's guest memory and vCPU state, read from outside the guest.
 *
 * These helpers reach into the sandbox's internals on purpose: the public API
 * has no way to read guest memory or the vCPU, and guarantees such as
 * "restore puts back every byte" can only be checked by reading every byte.
 * They depend on private field names (`guest`, `guest.memory`, `guest.vm`) and
 * must follow them if those change.
 */
import { createHash } from 'node:crypto';
import type { MultiUseSandbox, VirtualMachine } from '@hyperlight-ts/core';

/** The slice of core's `GuestMemory` the tests read. */
interface RawGuestMemory {
  readonly size: number;
  subarray(gpa: number, size: number): Uint8Array;
}

/** The parts of core's `GuestVm` these helpers use. */
interface GuestVmInternals {
  readonly memory: RawGuestMemory;
  readonly vm: VirtualMachine;
}

function internals(sandbox: MultiUseSandbox): GuestVmInternals {
  return (sandbox as unknown as { guest: GuestVmInternals }).guest;
}

/** The sandbox's guest memory, guest-physical address 0 first. Read it afresh after each restore. */
export function guestMemory(sandbox: MultiUseSandbox): RawGuestMemory {
  return internals(sandbox).memory;
}

/** SHA-256 (hex) of all of a sandbox's guest memory. */
export function guestMemoryDigest(sandbox: MultiUseSandbox): string {
  const memory = guestMemory(sandbox);
  if (memory.size === 0) throw new Error('the sandbox has no guest memory (disposed?)');
  return createHash('sha256').update(memory.subarray(0, memory.size)).digest('hex');
}

/**
 * Guest-physical addresses of the 4 KiB pages where the guest memory of
 * `sandbox` differs from `expected` (a copy taken earlier).
 */
export function differingPages(sandbox: MultiUseSandbox, expected: Uint8Array): number[] {
  const memory = guestMemory(sandbox);
  const bytes = memory.subarray(0, memory.size);
  const actual = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reference = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (actual.length !== reference.length) throw new Error(`guest memory is ${actual.length} bytes, the copy ${reference.length}`);
  const pages: number[] = [];
  for (let gpa = 0; gpa < actual.length; gpa += 4096) {
    if (actual.compare(reference, gpa, gpa + 4096, gpa, gpa + 4096) !== 0) pages.push(gpa);
  }
  return pages;
}

/** Up to `limit` page addresses in hex, for failure messages. */
export function describePages(pages: readonly number[], limit = 8): string {
  const shown = pages.slice(0, limit).map((gpa) => `0x${gpa.toString(16)}`).join(', ');
  return pages.length > limit ? `${shown}, ... (${pages.length} pages)` : `${shown} (${pages.length} pages)`;
}

/** A copy of all of a sandbox's guest memory. */
export function copyGuestMemory(sandbox: MultiUseSandbox): Uint8Array {
  const memory = guestMemory(sandbox);
  return memory.subarray(0, memory.size).slice();
}

/**
 * The vCPU's x87 control word and MXCSR as the hypervisor holds them between
 * calls. Every backend's FPU state is an XSAVE area (KVM's `KVM_GET_XSAVE`,
 * MSHV's compacted one, WHP's), and every XSAVE format starts with the
 * 512-byte FXSAVE layout: FCW at byte 0, MXCSR at byte 24.
 */
export function vcpuFpuControl(sandbox: MultiUseSandbox): { fcw: number; mxcsr: number } {
  const state = internals(sandbox).vm.getFpuState();
  const view = new DataView(state.buffer, state.byteOffset, state.byteLength);
  return { fcw: view.getUint16(0, true), mxcsr: view.getUint32(24, true) };
}
