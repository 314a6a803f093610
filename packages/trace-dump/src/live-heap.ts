import type { MemoryLine } from '@hyperlight-ts/tracing';

/**
 * Follows the guest heap through a trace's `alloc` and `free` lines: blocks
 * live now, live bytes, their peak and totals. A free of a block the trace
 * never saw allocated (recorded before memory profiling was on) is counted
 * but does not change live bytes.
 */
export class LiveHeap {
  readonly #blocks = new Map<string, number>();
  liveBytes = 0;
  peakLiveBytes = 0;
  allocations = 0;
  allocatedBytes = 0;
  frees = 0;
  freedBytes = 0;
  unmatchedFrees = 0;

  /** Applies one line; returns the live bytes after it. */
  apply(line: MemoryLine): number {
    const address = line.address.toLowerCase();
    if (line.type === 'alloc') {
      this.allocations++;
      this.allocatedBytes += line.size;
      this.liveBytes += line.size - (this.#blocks.get(address) ?? 0);
      this.#blocks.set(address, line.size);
      this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
    } else {
      this.frees++;
      this.freedBytes += line.size;
      const size = this.#blocks.get(address);
      if (size === undefined) this.unmatchedFrees++;
      else {
        this.liveBytes -= size;
        this.#blocks.delete(address);
      }
    }
    return this.liveBytes;
  }

  /** Blocks still live (leaked, at the end of a trace). */
  get liveBlocks(): number {
    return this.#blocks.size;
  }
}
