import { describe, expect, it } from 'vitest';
import { Abi } from '../../../src/abi/generated.js';
import { entryRegisters } from '../../../src/arch/x86_64/entry-registers.js';
import { smallLayout } from './fixture.js';

describe('entryRegisters', () => {
  const layout = smallLayout();

  it.each([Abi.OP_INIT, Abi.OP_CALL])('enters op %i with the documented registers', (op) => {
    const regs = entryRegisters(layout, op, 0x1234_5000n);
    expect(regs.rip).toBe(0x1234_5000n);
    expect(regs.rsp).toBe(BigInt(layout.stackGpa + layout.stackSize - 8));
    expect(regs.rsp % 16n).toBe(8n); // as if `call` pushed a return address
    expect(regs.rdi).toBe(BigInt(layout.pebGpa));
    expect(regs.rsi).toBe(BigInt(op));
    expect(regs.rflags).toBe(2n);
    const others = Object.entries(regs).filter(([name]) => !['rip', 'rsp', 'rdi', 'rsi', 'rflags'].includes(name));
    expect(others).toHaveLength(13);
    expect(others.every(([, value]) => value === 0n)).toBe(true);
  });
});
