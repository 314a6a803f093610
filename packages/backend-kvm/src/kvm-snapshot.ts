/**
 * The check every entry point that takes a `MemorySnapshot` makes before any
 * KVM resource exists: it must be one this addon made, of the right size.
 */
import type { MemorySnapshot } from '@hyperlight-ts/core';
import type { SnapshotMemory } from '@hyperlight-ts/native-linux';
import type { NativeAddon } from './native.js';

/**
 * `memory` as this addon's {@link SnapshotMemory} (the addon checks its type
 * tag again when it maps it).
 * @param what - the argument's name, for messages
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for another backend's snapshot;
 *   RangeError (`ERR_OUT_OF_RANGE`) when it does not hold `size` bytes.
 */
export function kvmSnapshot(addon: Pick<NativeAddon, 'SnapshotMemory'>, memory: MemorySnapshot, size: number, what: string): SnapshotMemory {
  if (!Object.prototype.isPrototypeOf.call(addon.SnapshotMemory.prototype, memory)) {
    const error = new TypeError(`${what} must be a MemorySnapshot of the kvm backend (from snapshotMemory() or mapSnapshotFile())`);
    throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (memory.size !== size) {
    const error = new RangeError(`${what} holds ${memory.size} bytes, expected ${size}`);
    throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
  }
  return memory;
}
