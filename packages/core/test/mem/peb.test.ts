import { describe, expect, it } from 'vitest';
import { Abi, PEB_SIZE, PebOffset } from '../../src/abi/generated.js';
import { ConfigurationError, GuestProtocolError } from '../../src/errors.js';
import { GuestMemory } from '../../src/mem/guest-memory.js';
import { MemoryLayout, type MemoryLayoutOptions } from '../../src/mem/layout.js';
import { writePeb } from '../../src/mem/peb.js';

function layoutWith(overrides: Partial<MemoryLayoutOptions> = {}): MemoryLayout {
  return MemoryLayout.compute({
    imageSize: 0x3000,
    imageSegments: [{ offset: 0, memSize: 0x3000, readable: true, writable: false, executable: true }],
    inputSize: 0x2000, outputSize: 0x3000, logSize: 0x1000, traceSize: 0x6000, heapSize: 0x5000, stackSize: 0x4000, initDataSize: 0,
    ...overrides,
  });
}

function pebFields(memory: GuestMemory, layout: MemoryLayout): Record<string, bigint> {
  return Object.fromEntries(Object.entries(PebOffset).map(([name, offset]) => [name, memory.readU64(layout.pebGpa + offset)]));
}

describe('writePeb', () => {
  it('fills every field in PebOffset order from the layout', () => {
    const layout = layoutWith({ initDataSize: 5000 });
    const memory = new GuestMemory(new ArrayBuffer(layout.totalSize));
    memory.fill(layout.pebGpa, layout.pebSize, 0xee);
    writePeb(memory, layout, { maxLogLevel: 2 });
    expect(pebFields(memory, layout)).toEqual({
      magic: Abi.PEB_MAGIC,
      abiVersion: BigInt(Abi.ABI_VERSION),
      inputGva: BigInt(layout.inputGpa),
      inputSize: 0x2000n,
      outputGva: BigInt(layout.outputGpa),
      outputSize: 0x3000n,
      heapGva: BigInt(layout.heapGpa),
      heapSize: 0x5000n,
      stackGva: BigInt(layout.stackGpa),
      stackSize: 0x4000n,
      initDataGva: BigInt(layout.initDataGpa),
      initDataSize: 5000n,
      logGva: BigInt(layout.logGpa),
      logSize: 0x1000n,
      maxLogLevel: 2n,
      imageGva: BigInt(layout.imageGpa),
      imageSize: 0x3000n,
      traceGva: BigInt(layout.traceGpa),
      traceSize: 0x6000n,
      clockNs: 0n,
    });
    // The magic reads "HLTSABI1" as bytes, and the rest of the page is zero.
    expect(new TextDecoder().decode(memory.readBytes(layout.pebGpa, 8))).toBe('HLTSABI1');
    expect(memory.readBytes(layout.pebGpa + PEB_SIZE, layout.pebSize - PEB_SIZE).every((b) => b === 0)).toBe(true);
  });

  it('writes 0/0 for init data when there is none', () => {
    const layout = layoutWith();
    const memory = new GuestMemory(new ArrayBuffer(layout.totalSize));
    writePeb(memory, layout, { maxLogLevel: 6 });
    const fields = pebFields(memory, layout);
    expect([fields.initDataGva, fields.initDataSize, fields.maxLogLevel]).toEqual([0n, 0n, 6n]);
  });

  it.each([-1, 7, 2.5, Number.NaN])('rejects maxLogLevel %s', (maxLogLevel) => {
    const layout = layoutWith();
    expect(() => writePeb(new GuestMemory(new ArrayBuffer(layout.totalSize)), layout, { maxLogLevel })).toThrow(ConfigurationError);
  });

  it('refuses memory smaller than the layout', () => {
    const layout = layoutWith();
    expect(() => writePeb(new GuestMemory(new ArrayBuffer(layout.pebGpa + 8)), layout, { maxLogLevel: 0 })).toThrow(GuestProtocolError);
  });
});
