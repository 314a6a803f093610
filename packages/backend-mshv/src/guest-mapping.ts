/**
 * One range of guest-physical memory backed by a {@link GuestMemory}, mapped
 * into a partition with `MSHV_SET_GUEST_MEMORY`.
 *
 * Kernels that pin mapped memory (the 6.15-era driver) keep showing the guest
 * the pages that were pinned at map time, whatever the host maps over the
 * range later. Every host-side change of what backs the range (snapshot,
 * restore) therefore happens while the range is unmapped from the partition
 * ({@link GuestMapping.whileUnmapped}); kernels with movable regions see the
 * change either way. An unmap repeats the map's size, address and host
 * address exactly, with only the UNMAP flag, as the kernel requires.
 *
 *   unmapped --map()--> mapped --unmap()--> unmapped
 */
import { PAGE_SIZE, USER_MEM_REGION } from './mshv-abi.js';
import { asMshvError } from './mshv-error.js';
import type { GuestMemory, MshvPartition } from './mshv-ioctls.js';

/** A guest-physical range and the memory behind it. */
export class GuestMapping {
  #mapped = false;

  /**
   * Describes the mapping; nothing is mapped until {@link map}.
   * @param readOnly - map without the WRITABLE flag: guest writes exit as memory faults.
   */
  constructor(
    readonly partition: MshvPartition,
    readonly memory: GuestMemory,
    readonly gpa: bigint,
    readonly readOnly: boolean,
  ) {}

  /** Whether the range is mapped into the partition now. */
  get mapped(): boolean {
    return this.#mapped;
  }

  /**
   * Maps the range (readable and executable; writable unless read-only).
   * @throws MshvError (`MSHV_SET_GUEST_MEMORY`) when the kernel refuses.
   */
  map(): void {
    if (this.#mapped) return;
    const flags = USER_MEM_REGION.executable | (this.readOnly ? 0 : USER_MEM_REGION.writable);
    this.#setGuestMemory(flags);
    this.#mapped = true;
  }

  /**
   * Unmaps the range. Idempotent.
   * @throws MshvError (`MSHV_SET_GUEST_MEMORY`) when the kernel refuses.
   */
  unmap(): void {
    if (!this.#mapped) return;
    this.#setGuestMemory(USER_MEM_REGION.unmap);
    this.#mapped = false;
  }

  /**
   * Runs `change` (which may remap the host memory) with the range unmapped
   * from the partition, then maps it again, also when `change` throws.
   * @returns what `change` returns.
   * @throws what `change` throws; MshvError when unmapping or mapping fails.
   */
  whileUnmapped<T>(change: () => T): T {
    const wasMapped = this.#mapped;
    this.unmap();
    try {
      return change();
    } finally {
      if (wasMapped) this.map();
    }
  }

  #setGuestMemory(flags: number): void {
    const arg = new Uint8Array(USER_MEM_REGION.size);
    const view = new DataView(arg.buffer);
    view.setBigUint64(USER_MEM_REGION.sizeField, BigInt(this.memory.memorySize), true);
    view.setBigUint64(USER_MEM_REGION.guestPfn, this.gpa / BigInt(PAGE_SIZE), true);
    view.setUint8(USER_MEM_REGION.flags, flags);
    try {
      this.partition.setGuestMemory(arg, this.memory);
    } catch (error) {
      throw asMshvError('MSHV_SET_GUEST_MEMORY', error, undefined, `gpa 0x${this.gpa.toString(16)}, ${this.memory.memorySize} bytes`);
    }
  }
}

