/** Layouts and memories with the system structures written, shared by the x86-64 tests. */
import { writeSystemStructures } from '../../../src/arch/x86_64/system-structures.js';
import { GuestMemory } from '../../../src/mem/guest-memory.js';
import { MemoryLayout, type MemoryLayoutOptions } from '../../../src/mem/layout.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** A small layout (about 100 KiB) with an R, an RX and an RW image segment and a gap. */
export function smallLayout(overrides: Partial<MemoryLayoutOptions> = {}): MemoryLayout {
  return MemoryLayout.compute({
    imageSize: 0x5000,
    imageSegments: [
      { offset: 0, memSize: 0x2e8, readable: true, writable: false, executable: false },
      { offset: 0x1000, memSize: 0x1d, readable: true, writable: false, executable: true },
      { offset: 0x3f00, memSize: 0x1100, readable: true, writable: true, executable: false },
    ],
    inputSize: 4 * KIB, outputSize: 4 * KIB, logSize: 4 * KIB, traceSize: 4 * KIB, heapSize: 16 * KIB, stackSize: 16 * KIB, initDataSize: 100,
    ...overrides,
  });
}

/** A layout over several 2 MiB page tables (about 9 MiB). */
export function multiTableLayout(): MemoryLayout {
  return smallLayout({ heapSize: 6 * MIB + 12345, stackSize: 2 * MIB, inputSize: 300 * KIB });
}

/** Guest memory for `layout`, pre-filled with garbage, with the system structures written. */
export function builtMemory(layout: MemoryLayout): GuestMemory {
  const memory = new GuestMemory(new ArrayBuffer(layout.totalSize));
  memory.fill(0, layout.totalSize, 0xa5);
  writeSystemStructures(memory, layout);
  return memory;
}
