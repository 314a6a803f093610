/**
 * The WHP backend's `MemorySnapshot`: an immutable copy of memory, or a
 * read-only view of a snapshot file. WHP maps only this process's memory
 * and offers no copy-on-write mapping of it, so a VM made from a snapshot,
 * and a restore, copy the bytes (see README "Memory costs").
 */
import type { MemorySnapshot } from '@hyperlight-ts/core/backend';
import { HostMemory } from './host-memory.js';
import { KERNEL32, type WhpApi } from './whp-api.js';
import { hresultFromWin32, WhpError } from './whp-error.js';

const PAGE_SIZE = 4096;

/** A snapshot of this backend; made by `snapshotMemory()` or `mapSnapshotFile()`. */
export class WhpSnapshot implements MemorySnapshot {
  readonly size: number;
  #bytes: Uint8Array | undefined;
  readonly #free: () => void;

  private constructor(bytes: Uint8Array, free: () => void) {
    this.size = bytes.byteLength;
    this.#bytes = bytes;
    this.#free = free;
  }

  /**
   * Copies `memory` into new host memory, skipping pages that are all zeros
   * (fresh memory reads as zeros already).
   * @throws WhpError when the memory cannot be had.
   */
  static copyOf(api: WhpApi, memory: Uint8Array): WhpSnapshot {
    const copy = HostMemory.allocate(api, memory.byteLength);
    copyNonZeroPages(memory, copy.bytes);
    return new WhpSnapshot(copy.bytes, () => copy.release());
  }

  /**
   * Maps `size` bytes of file `path` from `offset` read-only. MapViewOfFile
   * takes offsets in 64 KiB units, so the view starts at the unit below.
   * @throws WhpError (CreateFileW, CreateFileMappingW, MapViewOfFile) when the file cannot be mapped.
   */
  static mapFile(api: WhpApi, path: string, offset: number, size: number): WhpSnapshot {
    const file = api.openFileForReading(path);
    if (file === 0n) throw new WhpError('CreateFileW', hresultFromWin32(api.lastError()), path);
    let mapping = 0n;
    try {
      mapping = api.createFileMapping(file, KERNEL32.PAGE_READONLY, 0, null);
      if (mapping === 0n) throw new WhpError('CreateFileMappingW', hresultFromWin32(api.lastError()), path);
      const skip = offset % KERNEL32.allocationGranularity;
      const address = api.mapViewOfFile(mapping, KERNEL32.FILE_MAP_READ, offset - skip, skip + size);
      if (address === 0n) throw new WhpError('MapViewOfFile', hresultFromWin32(api.lastError()), path);
      // The bytes are never handed out, so unmapping on dispose cannot leave a dangling buffer.
      const bytes = new Uint8Array(api.view(address, skip + size), skip, size);
      return new WhpSnapshot(bytes, () => api.unmapViewOfFile(address));
    } finally {
      // A view keeps its section (and file) open by itself.
      if (mapping !== 0n) api.closeHandle(mapping);
      api.closeHandle(file);
    }
  }

  /**
   * The snapshot's bytes, for this backend's copies.
   * @throws Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  get bytes(): Uint8Array {
    if (this.#bytes === undefined) throw Object.assign(new Error('MemorySnapshot: used after dispose()'), { code: 'ERR_HYPERLIGHT_DISPOSED' });
    return this.#bytes;
  }

  /**
   * Copies `target.byteLength` bytes from `offset` into `target`.
   * @throws RangeError outside the snapshot; Error `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  read(offset: number, target: Uint8Array): void {
    const bytes = this.bytes;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + target.byteLength > this.size) {
      throw Object.assign(new RangeError(`read of ${target.byteLength} bytes at ${offset} is outside the ${this.size}-byte snapshot`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    target.set(bytes.subarray(offset, offset + target.byteLength));
  }

  /** Releases the copy or the file view. Idempotent. */
  dispose(): void {
    if (this.#bytes === undefined) return;
    this.#bytes = undefined;
    this.#free();
  }

  /** Same as {@link WhpSnapshot.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Copies each page of `source` that holds a non-zero byte into `target` (which reads as zeros). */
export function copyNonZeroPages(source: Uint8Array, target: Uint8Array): void {
  const words = new BigUint64Array(source.buffer, source.byteOffset, source.byteLength / 8);
  const perPage = PAGE_SIZE / 8;
  for (let page = 0; page < words.length; page += perPage) {
    for (let i = page; i < page + perPage; i++) {
      if (words[i] !== 0n) {
        target.set(source.subarray(page * 8, page * 8 + PAGE_SIZE), page * 8);
        break;
      }
    }
  }
}
