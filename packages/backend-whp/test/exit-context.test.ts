import { VM_EXIT_KINDS } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { CANCELED, decodeExitContext } from '../src/exit-context.js';
import { exitContext } from './helpers/fake-whp-api.js';

// Offsets: WHV_RUN_VP_EXIT_CONTEXT as measured against mingw-w64-common 10.0.0-3 (see whp-abi.test.ts).
const RIP = 32, LEN = 10, INFO = 68, PORT = 72, RAX = 80, GPA = 72;

describe('decodeExitContext', () => {
  it('decodes out with its size and value, and the RIP after the instruction', () => {
    const d = decodeExitContext(exitContext(2, { [LEN]: [1, 0x32], [RIP]: [8, 0x1000n], [INFO]: [4, 1 | (2 << 1)], [PORT]: [2, 0x3f8], [RAX]: [8, 0xdead_beefn] }));
    expect(d.exit).toEqual({ kind: 'io-out', port: 0x3f8, size: 2, value: 0xbeef });
    expect(d.completion).toEqual({ rip: 0x1002n });
  });

  it('decodes in and zeroes only the bytes read (32-bit reads zero-extend)', () => {
    const one = decodeExitContext(exitContext(2, { [LEN]: [1, 1], [RIP]: [8, 0x2000n], [INFO]: [4, 1 << 1], [PORT]: [2, 0x60], [RAX]: [8, 0x1122_3344_5566_7788n] }));
    expect(one.exit).toEqual({ kind: 'io-in', port: 0x60, size: 1 });
    expect(one.completion).toEqual({ rip: 0x2001n, rax: 0x1122_3344_5566_7700n });
    const four = decodeExitContext(exitContext(2, { [LEN]: [1, 1], [INFO]: [4, 4 << 1], [RAX]: [8, 0x1122_3344_5566_7788n] }));
    expect(four.completion?.rax).toBe(0n);
  });

  it('refuses to complete string or odd-sized port I/O', () => {
    expect(decodeExitContext(exitContext(2, { [INFO]: [4, 0x19] })).exit.kind).toBe('unknown');
    expect(decodeExitContext(exitContext(2, { [INFO]: [4, 3 << 1] })).exit.kind).toBe('unknown');
  });

  it('decodes memory access type and GpaUnmapped', () => {
    expect(decodeExitContext(exitContext(1, { [INFO]: [4, 1], [GPA]: [8, 0x5000n] })).exit).toEqual({ kind: 'memory-fault', gpa: 0x5000n, access: 'write', unmapped: false });
    expect(decodeExitContext(exitContext(1, { [INFO]: [4, 2 | 4], [GPA]: [8, 0x9000n] })).exit).toEqual({ kind: 'memory-fault', gpa: 0x9000n, access: 'execute', unmapped: true });
    expect(decodeExitContext(exitContext(1, { [INFO]: [4, 3] })).exit.kind).toBe('unknown');
  });

  it('maps the other reasons', () => {
    expect(decodeExitContext(exitContext(8)).exit).toEqual({ kind: 'halt' });
    expect(decodeExitContext(exitContext(4)).exit).toEqual({ kind: 'triple-fault' });
    expect(decodeExitContext(exitContext(5)).exit.kind).toBe('invalid-state');
    const unsupported = decodeExitContext(exitContext(6, { 48: [4, 2], 56: [8, 7n] })).exit;
    expect(unsupported).toEqual({ kind: 'hypervisor-error', detail: expect.stringContaining('TaskSwitchTss') });
    expect(decodeExitContext(exitContext(0x2001))).toBe(CANCELED);
    expect(decodeExitContext(exitContext(0x1001)).exit).toEqual({ kind: 'unknown', detail: expect.stringContaining('X64Cpuid') });
    expect(decodeExitContext(exitContext(0x7777)).exit).toEqual({ kind: 'unknown', detail: expect.stringContaining('0x00007777') });
  });

  it('reaches every VmExit kind', () => {
    const kinds = new Set([1, 2, 4, 5, 6, 8, 0x2001, 0x9999].map((reason) => decodeExitContext(exitContext(reason, { [INFO]: [4, 1 | (2 << 1)] })).exit.kind));
    kinds.add(decodeExitContext(exitContext(2, { [INFO]: [4, 1 << 1] })).exit.kind);
    expect([...kinds].sort()).toEqual([...VM_EXIT_KINDS].sort());
  });

  it('rejects a short buffer', () => {
    expect(() => decodeExitContext(new Uint8Array(100))).toThrow(RangeError);
  });
});
