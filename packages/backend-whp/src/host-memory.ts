/**
 * Page-aligned host memory from VirtualAlloc, seen by JavaScript through an
 * ArrayBuffer over it. Such a buffer cannot be detached, so freeing the pages
 * while it is reachable would let JavaScript touch unmapped memory. `release()`
 * therefore only tells Windows the contents are no longer needed (MEM_RESET:
 * the physical pages can go at once, the range stays accessible), and the
 * range itself is released when the buffer has been garbage-collected.
 */
import { KERNEL32, type WhpApi } from './whp-api.js';
import { hresultFromWin32, WhpError } from './whp-error.js';

const finalizer = new FinalizationRegistry<{ api: WhpApi; address: bigint }>(({ api, address }) => {
  api.virtualFree(address, 0, KERNEL32.MEM_RELEASE);
});

/** `size` bytes of committed, zeroed, read-write memory. */
export class HostMemory {
  /** The view JavaScript uses; accessible (contents undefined after release) as long as it is reachable. */
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  #released = false;

  private constructor(private readonly api: WhpApi, readonly address: bigint, readonly size: number) {
    this.buffer = api.view(address, size);
    this.bytes = new Uint8Array(this.buffer);
    finalizer.register(this.buffer, { api, address });
  }

  /**
   * Commits `size` bytes (a multiple of 4096).
   * @throws WhpError (VirtualAlloc) when the memory cannot be had.
   */
  static allocate(api: WhpApi, size: number): HostMemory {
    const address = api.virtualAlloc(0n, size, KERNEL32.MEM_COMMIT | KERNEL32.MEM_RESERVE, KERNEL32.PAGE_READWRITE);
    if (address === 0n) throw new WhpError('VirtualAlloc', hresultFromWin32(api.lastError()), `${size} bytes of guest memory`);
    return new HostMemory(api, address, size);
  }

  /** Gives the physical pages back now; the range goes with the buffer. Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.api.virtualAlloc(this.address, this.size, KERNEL32.MEM_RESET, KERNEL32.PAGE_READWRITE);
  }
}
