import { describe, expect, it } from 'vitest';
import { Selectors } from '../../../src/abi/generated.js';
import { IDT_LIMIT, interruptGate } from '../../../src/arch/x86_64/idt.js';
import { decodeGate } from './descriptors.js';
import { builtMemory, smallLayout } from './fixture.js';

describe('IDT', () => {
  const layout = smallLayout();
  const memory = builtMemory(layout);

  it('covers exactly the 32 exception vectors', () => {
    expect(IDT_LIMIT).toBe(32 * 16 - 1);
  });

  it.each(Array.from({ length: 32 }, (_, v) => v))('gate %i: interrupt gate to its stub, CPL0 selector, IST1', (vector) => {
    const gate = decodeGate(memory.readU64(layout.idtGpa + vector * 16), memory.readU64(layout.idtGpa + vector * 16 + 8));
    expect(gate).toEqual({
      offset: BigInt(layout.exceptionStubsGpa + vector * 8),
      selector: Selectors.KERNEL_CODE,
      ist: 1,
      type: 0xe,
      dpl: vector === 3 || vector === 4 ? 3 : 0,
      present: true,
      reserved: 0n,
    });
  });

  it('encodes handler addresses above 64 KiB and 4 GiB into the split offset', () => {
    const [low, high] = interruptGate(0x1_2345_6789, 0x08, 1, 0);
    expect(decodeGate(low, high).offset).toBe(0x1_2345_6789n);
  });
});
