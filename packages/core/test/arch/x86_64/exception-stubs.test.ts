import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXCEPTION_STUB_SIZE, exceptionStubBytes, exceptionStubGva } from '../../../src/arch/x86_64/exception-stubs.js';
import { GuestProtocolError } from '../../../src/errors.js';
import { builtMemory, smallLayout } from './fixture.js';

const hasBinutils = spawnSync('as', ['--version'], { stdio: 'ignore' }).status === 0 &&
  spawnSync('objcopy', ['--version'], { stdio: 'ignore' }).status === 0;

describe('exception stubs', () => {
  it('are `out imm8, al` to EXCEPTION_BASE + v, `hlt`, `jmp` back to the hlt, int3 padding', () => {
    expect(EXCEPTION_STUB_SIZE).toBe(8);
    expect([...exceptionStubBytes(0)]).toEqual([0xe6, 0xc0, 0xf4, 0xeb, 0xfd, 0xcc, 0xcc, 0xcc]);
    expect([...exceptionStubBytes(31)]).toEqual([0xe6, 0xdf, 0xf4, 0xeb, 0xfd, 0xcc, 0xcc, 0xcc]);
  });

  it('are written at 8-byte steps on the stubs page, the rest of the page int3', () => {
    const layout = smallLayout();
    const memory = builtMemory(layout);
    for (let v = 0; v < 32; v++) {
      expect(exceptionStubGva(layout, v)).toBe(layout.exceptionStubsGpa + 8 * v);
      expect([...memory.readBytes(exceptionStubGva(layout, v), 8)]).toEqual([...exceptionStubBytes(v)]);
    }
    expect(memory.readBytes(layout.exceptionStubsGpa + 256, 4096 - 256).every((b) => b === 0xcc)).toBe(true);
  });

  it.each([-1, 32, 1.5, Number.NaN])('rejects vector %s', (vector) => {
    expect(() => exceptionStubBytes(vector)).toThrow(GuestProtocolError);
    expect(() => exceptionStubGva(smallLayout(), vector)).toThrow(GuestProtocolError);
  });

  it.skipIf(!hasBinutils)(`match what GNU as assembles${hasBinutils ? '' : ' (skipped: binutils not installed)'}`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'hl-stubs-'));
    try {
      const source = Array.from({ length: 32 }, (_, v) => `stub${v}: out %al, $${0xc0 + v}\n 1: hlt\n jmp 1b\n .byte 0xcc, 0xcc, 0xcc\n`).join('');
      writeFileSync(join(dir, 'stubs.s'), `.code64\n.text\n${source}`);
      expect(spawnSync('as', ['--64', '-o', join(dir, 'stubs.o'), join(dir, 'stubs.s')]).status).toBe(0);
      expect(spawnSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 'stubs.o'), join(dir, 'stubs.bin')]).status).toBe(0);
      const assembled = new Uint8Array(readFileSync(join(dir, 'stubs.bin')));
      const ours = new Uint8Array(32 * 8);
      for (let v = 0; v < 32; v++) ours.set(exceptionStubBytes(v), v * 8);
      expect([...assembled]).toEqual([...ours]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
