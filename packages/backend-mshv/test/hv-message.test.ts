import { VM_EXIT_KINDS, type VmExit } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../src/hv-message.js';
import { ioPortMessage, memoryMessage, plainMessage } from './helpers/messages.js';

const decode = (bytes: Uint8Array) => decodeMessage(new DataView(bytes.buffer));

describe('decodeMessage', () => {
  it('decodes an out of each size, masking RAX, and resumes after the instruction', () => {
    for (const [size, value] of [[1, 0xefn], [2, 0xbeefn], [4, 0xdeadbeefn]] as const) {
      const decoded = decode(ioPortMessage({ port: 0x3f8, size, write: true, rax: 0x1234_5678_dead_beefn, rip: 0x1000n, length: 1 }));
      expect(decoded.exit).toEqual({ kind: 'io-out', port: 0x3f8, size, value: Number(value) });
      expect(decoded.resume).toEqual({ rip: 0x1001n });
    }
  });

  it('decodes an in: zeroes only the bytes read (in eax zero-extends)', () => {
    const rax = 0x1122_3344_5566_7788n;
    const at = (size: number) => decode(ioPortMessage({ port: 0x60, size, write: false, rax, rip: 0x2000n, length: 2 }));
    expect(at(1).exit).toEqual({ kind: 'io-in', port: 0x60, size: 1 });
    expect(at(1).resume).toEqual({ rip: 0x2002n, rax: 0x1122_3344_5566_7700n });
    expect(at(2).resume?.rax).toBe(0x1122_3344_5566_0000n);
    expect(at(4).resume?.rax).toBe(0n);
  });

  it('turns string, rep and odd-sized port I/O into unknown', () => {
    for (const accessInfo of [0x1 | 0x8, 0x1 | 0x10, 3, 0]) {
      const { exit, resume } = decode(ioPortMessage({ port: 1, size: 1, write: true, rax: 0n, rip: 0n, length: 1, accessInfo }));
      expect(exit.kind).toBe('unknown');
      expect(resume).toBeUndefined();
    }
  });

  it('decodes unmapped and protection memory faults with the access type', () => {
    expect(decode(memoryMessage({ unmapped: true, gpa: 0x1_0000_0000n, access: 0 })).exit)
      .toEqual({ kind: 'memory-fault', gpa: 0x1_0000_0000n, access: 'read', unmapped: true });
    expect(decode(memoryMessage({ unmapped: false, gpa: 0x5000n, access: 1 })).exit)
      .toEqual({ kind: 'memory-fault', gpa: 0x5000n, access: 'write', unmapped: false });
    expect(decode(memoryMessage({ unmapped: true, gpa: 0x6000n, access: 2 })).exit)
      .toEqual({ kind: 'memory-fault', gpa: 0x6000n, access: 'execute', unmapped: true });
    expect(decode(memoryMessage({ unmapped: true, gpa: 0x6000n, access: 7 })).exit.kind).toBe('unknown');
  });

  it('decodes halt, triple fault, invalid state and unsupported feature', () => {
    expect(decode(plainMessage(0x8001_0007)).exit).toEqual({ kind: 'halt' });
    expect(decode(plainMessage(0x8000_0021)).exit).toEqual({ kind: 'triple-fault' });
    expect(decode(plainMessage(0x8000_0020)).exit).toMatchObject({ kind: 'invalid-state', detail: expect.stringContaining('INVALID_VP_REGISTER_VALUE') });
    const feature = decode(plainMessage(0x8000_0022, (view) => { view.setUint32(20, 2, true); view.setBigUint64(24, 0x42n, true); })).exit;
    expect(feature).toEqual({ kind: 'hypervisor-error', detail: 'HVMSG_UNSUPPORTED_FEATURE: feature code 2, parameter 0x42' });
  });

  it('names intercepts it does not model, and hex-prints unknown types', () => {
    expect(decode(plainMessage(0x8001_0002)).exit).toEqual({ kind: 'unknown', detail: 'HVMSG_X64_CPUID_INTERCEPT 0x80010002' });
    expect(decode(plainMessage(0x1234)).exit).toEqual({ kind: 'unknown', detail: 'hv_message type 0x1234' });
  });

  it('refuses a buffer shorter than a message', () => {
    expect(() => decodeMessage(new DataView(new ArrayBuffer(16)))).toThrow(RangeError);
  });

  it('reaches every VmExit kind except cancelled (which the VM returns itself)', () => {
    const exits: VmExit[] = [
      ioPortMessage({ port: 1, size: 1, write: true, rax: 0n, rip: 0n, length: 1 }),
      ioPortMessage({ port: 1, size: 1, write: false, rax: 0n, rip: 0n, length: 1 }),
      memoryMessage({ unmapped: true, gpa: 0n, access: 0 }),
      plainMessage(0x8001_0007), plainMessage(0x8000_0021), plainMessage(0x8000_0020), plainMessage(0x8000_0022), plainMessage(7),
    ].map((bytes) => decode(bytes).exit);
    expect(new Set([...exits.map((exit) => exit.kind), 'cancelled'])).toEqual(new Set(VM_EXIT_KINDS));
  });
});
