/**
 * A guest-physical region beyond main memory (`VirtualMachine.mapRegion`):
 * its own {@link GuestMemory} in its own KVM memory slot, read-only to the
 * guest with `KVM_MEM_READONLY` (a guest write then exits as MMIO, which the
 * VM reports as a `memory-fault` that is not `unmapped`).
 *
 *   mapped --dispose()--> slot deleted (size 0), memory released, `memory` detached
 *   mapped --VM dispose()--> released with the VM
 */
import type { GuestRegion } from '@hyperlight-ts/core';
import type { GuestMemory } from '@hyperlight-ts/native-linux';

/** A region of a `KvmVirtualMachine`; made by its `mapRegion()`. */
export class KvmGuestRegion implements GuestRegion {
  /** The host's view of the region, zero-copy; detached (length 0) after dispose. */
  readonly memory: ArrayBuffer;
  #released = false;

  /**
   * @param slot - the KVM memory slot it occupies
   * @param guestMemory - the memory behind it, owned by the region from now on
   * @param unmap - the VM's removal of the slot (it may throw, e.g. while a run is pending)
   */
  constructor(
    readonly gpa: bigint,
    readonly size: number,
    readonly readOnly: boolean,
    readonly slot: number,
    readonly guestMemory: GuestMemory,
    private readonly unmap: (region: KvmGuestRegion) => void,
  ) {
    this.memory = guestMemory.buffer;
  }

  /** Whether the region is still mapped. */
  get mapped(): boolean {
    return !this.#released;
  }

  /**
   * Unmaps the region and releases its memory. Idempotent.
   * @throws Error `ERR_HYPERLIGHT_RUN_PENDING` while a `runAsync` of the VM is
   *   pending; KvmError when KVM refuses to delete the slot.
   */
  dispose(): void {
    if (this.#released) return;
    this.unmap(this);
    this.release();
  }

  /** Releases the memory without touching the slot (the VM is going away). Idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.guestMemory.dispose();
  }

  /** Same as {@link KvmGuestRegion.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
