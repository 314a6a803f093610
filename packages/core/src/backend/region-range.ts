/**
 * The checks every backend's `VirtualMachine.mapRegion` makes before it
 * touches the hypervisor, so all of them refuse the same ranges with the same
 * errors.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { RegionOptions } from './backend.js';

const PAGE_SIZE = 4096;

/** A guest-physical range already mapped: main memory or a region. */
export interface MappedRange {
  readonly gpa: bigint;
  /** Bytes. */
  readonly size: number;
}

/**
 * `options.gpa` and `options.size` of a new region, checked: `gpa` a bigint,
 * `size` a positive multiple of 4096 bytes that fits an `ArrayBuffer`, `gpa`
 * page-aligned with `gpa + size` at most 2^64, and the range overlapping
 * neither main memory (`[0, mainMemorySize)`) nor any of `regions`.
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) when `gpa` is not a bigint;
 *   RangeError (`ERR_OUT_OF_RANGE`) for a size, alignment or overlap problem.
 */
export function checkRegionRange(
  options: RegionOptions,
  mainMemorySize: number,
  regions: Iterable<MappedRange>,
): { gpa: bigint; size: number } {
  const gpa: unknown = options?.gpa;
  const size: unknown = options?.size;
  if (typeof gpa !== 'bigint') {
    throw Object.assign(new TypeError(`mapRegion(): gpa must be a bigint; got ${typeof gpa}`), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0 || size % PAGE_SIZE !== 0 || size > bufferConstants.MAX_LENGTH) {
    throw outOfRange(`mapRegion(): size must be a positive multiple of ${PAGE_SIZE} bytes, at most ${bufferConstants.MAX_LENGTH}; got ${String(size)}`);
  }
  const end = gpa + BigInt(size);
  if (gpa < 0n || gpa % BigInt(PAGE_SIZE) !== 0n || end > 1n << 64n) {
    throw outOfRange(`mapRegion(): gpa must be a multiple of ${PAGE_SIZE} with gpa + size at most 2^64; got 0x${gpa.toString(16)}`);
  }
  const range = `[0x${gpa.toString(16)}, 0x${end.toString(16)})`;
  if (gpa < BigInt(mainMemorySize)) throw outOfRange(`mapRegion(): ${range} overlaps main memory`);
  for (const other of regions) {
    if (gpa < other.gpa + BigInt(other.size) && other.gpa < end) {
      throw outOfRange(`mapRegion(): ${range} overlaps the region at 0x${other.gpa.toString(16)}`);
    }
  }
  return { gpa, size };
}

function outOfRange(message: string): RangeError {
  return Object.assign(new RangeError(message), { code: 'ERR_OUT_OF_RANGE' });
}
