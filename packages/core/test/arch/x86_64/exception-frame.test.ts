import { describe, expect, it } from 'vitest';
import { isStackGuardFault, readExceptionFrame, VECTORS_WITH_ERROR_CODE } from '../../../src/arch/x86_64/exception-frame.js';
import { GuestProtocolError } from '../../../src/errors.js';
import { GuestMemory } from '../../../src/mem/guest-memory.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('readExceptionFrame', () => {
  const layout = smallLayout();
  const top = layout.exceptionStackTopGva;

  /** Pushes a frame the way the CPU does on an IST switch (SDM Vol. 3A Figure 6-9). */
  function pushFrame(memory: GuestMemory, errorCode?: bigint): void {
    memory.writeU64(top - 8, 0x1bn); // SS
    memory.writeU64(top - 16, 0x7ff8n); // RSP
    memory.writeU64(top - 24, 0x10246n); // RFLAGS
    memory.writeU64(top - 32, 0x23n); // CS
    memory.writeU64(top - 40, 0x40_1234n); // RIP
    if (errorCode !== undefined) memory.writeU64(top - 48, errorCode);
  }

  it('knows which vectors push an error code', () => {
    expect([...VECTORS_WITH_ERROR_CODE].sort((a, b) => a - b)).toEqual([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
  });

  it.each(Array.from({ length: 32 }, (_, v) => v))('reads the frame of vector %i', (vector) => {
    const memory = builtMemory(layout);
    const hasCode = VECTORS_WITH_ERROR_CODE.has(vector);
    pushFrame(memory, hasCode ? 0x6n : undefined);
    const frame = readExceptionFrame(memory, layout, vector);
    expect(frame).toEqual({
      vector, rip: 0x40_1234n, cs: 0x23n, rflags: 0x10246n, rsp: 0x7ff8n, ss: 0x1bn, ...(hasCode ? { errorCode: 6n } : {}),
    });
    expect('errorCode' in frame).toBe(hasCode);
  });

  it('reads a #PF frame: error code below RIP', () => {
    const memory = builtMemory(layout);
    pushFrame(memory, 0x7n);
    expect(readExceptionFrame(memory, layout, 14).errorCode).toBe(7n);
  });

  it.each([-1, 32, 255, 1.5, Number.NaN])('rejects vector %s with GuestProtocolError', (vector) => {
    expect(() => readExceptionFrame(builtMemory(layout), layout, vector)).toThrow(GuestProtocolError);
  });

  it('throws GuestProtocolError, not RangeError, when the frame is outside memory', () => {
    const small = new GuestMemory(new ArrayBuffer(top - 24));
    expect(() => readExceptionFrame(small, layout, 13)).toThrow(GuestProtocolError);
    const detached = new ArrayBuffer(layout.totalSize);
    const memory = new GuestMemory(detached);
    structuredClone(detached, { transfer: [detached] });
    expect(() => readExceptionFrame(memory, layout, 6)).toThrow(GuestProtocolError);
  });
});

describe('isStackGuardFault', () => {
  const layout = smallLayout();
  const guard = BigInt(layout.stackGuardGpa);

  it('is true exactly for addresses in the guard page', () => {
    expect(isStackGuardFault(layout, guard)).toBe(true);
    expect(isStackGuardFault(layout, guard + 4095n)).toBe(true);
    expect(isStackGuardFault(layout, guard - 1n)).toBe(false);
    expect(isStackGuardFault(layout, guard + 4096n)).toBe(false); // the stack itself
    expect(isStackGuardFault(layout, BigInt(layout.stackGpa))).toBe(false);
    expect(isStackGuardFault(layout, 0n)).toBe(false);
    expect(isStackGuardFault(layout, 0xffff_ffff_ffff_ffffn)).toBe(false);
  });
});
