/**
 * The process-wide table of live WHP VMs, in one named shared-memory section
 * (`Local\hyperlight-ts-whp-<pid>`) that every thread opens for itself: a
 * worker that loaded this package on its own can still cancel a call of a VM
 * on another thread (`backend.cancelCall`), and the timeout watchdog works on
 * the same table. Each slot holds a VM's token id, its call-state word and
 * its partition handle; a cancel compare-and-swaps a reason into the word,
 * then calls WHvCancelRunVirtualProcessor under a pin that keeps
 * WHvDeletePartition waiting until it returns.
 *
 * Call-state word: core's `CALL_STATE` layout.
 * Pin word: bits 0-30 cancels in progress | bit 31 CLOSING (no new pins).
 *
 *   free --claim()--> live --release(): CLOSING, wait for pins--> free
 */
import { setCancelReason } from '@hyperlight-ts/core/backend';
import { KERNEL32, type PartitionHandle, type WhpApi } from './whp-api.js';
import { hresultFromWin32, WhpError } from './whp-error.js';

/** The section's layout in bytes and 32-bit words. */
export const REGISTRY_LAYOUT = {
  size: 4096,
  /** Header word 0: the last token id handed out. */
  nextIdWord: 0,
  headerSize: 64,
  slotSize: 32,
  slotCount: (4096 - 64) / 32,
  /** Slot words: token id (0 = free), call state, pins, spare; then the partition handle (u64) at byte 16. */
  idWord: 0,
  stateWord: 1,
  pinWord: 2,
  handleByte: 16,
} as const;

const CLOSING = 0x8000_0000 | 0;
const PIN_MASK = 0x7fff_ffff;

/** The name of this process's section. */
export function registrySectionName(pid: number = process.pid): string {
  return `Local\\hyperlight-ts-whp-${pid}`;
}

/**
 * Opens (or creates: the first thread to ask does) this process's section.
 * The mapping stays for the life of the process, like a module's globals.
 * @throws WhpError when the section cannot be created or mapped.
 */
export function openRegistryMemory(api: WhpApi): ArrayBuffer {
  const mapping = api.createFileMapping(0n, KERNEL32.PAGE_READWRITE, REGISTRY_LAYOUT.size, registrySectionName());
  if (mapping === 0n) throw new WhpError('CreateFileMappingW', hresultFromWin32(api.lastError()), 'the cancel registry section');
  const address = api.mapViewOfFile(mapping, KERNEL32.FILE_MAP_READ | KERNEL32.FILE_MAP_WRITE, 0, REGISTRY_LAYOUT.size);
  if (address === 0n) throw new WhpError('MapViewOfFile', hresultFromWin32(api.lastError()), 'the cancel registry section');
  return api.view(address, REGISTRY_LAYOUT.size);
}

/** One VM's slot, owned by the VM's thread. */
export interface RegistrySlot {
  readonly id: number;
  /** The slot's call-state word (index 0 of this view). */
  readonly state: Uint32Array;
  /** Frees the slot once no cancel uses the partition handle; call before WHvDeletePartition. */
  release(): void;
}

/** The table over a section's memory, with the function that stops a running vCPU. */
export class CancelRegistry {
  readonly #words: Int32Array;
  /** The same memory as call-state words. */
  readonly #states: Uint32Array;
  readonly #handles: BigUint64Array;
  readonly #cancelRun: (partition: PartitionHandle) => void;

  /**
   * @param memory - the section ({@link openRegistryMemory}), or any shared memory in tests
   * @param cancelRun - stops the partition's vCPU 0 (WHvCancelRunVirtualProcessor)
   */
  constructor(memory: ArrayBufferLike, cancelRun: (partition: PartitionHandle) => void) {
    this.#words = new Int32Array(memory, 0, REGISTRY_LAYOUT.size / 4);
    this.#states = new Uint32Array(memory, 0, REGISTRY_LAYOUT.size / 4);
    this.#handles = new BigUint64Array(memory, 0, REGISTRY_LAYOUT.size / 8);
    this.#cancelRun = cancelRun;
  }

  /** Slots in use, by any thread of the process. */
  liveCount(): number {
    let count = 0;
    for (let slot = 0; slot < REGISTRY_LAYOUT.slotCount; slot++) {
      if (Atomics.load(this.#words, this.#word(slot, REGISTRY_LAYOUT.idWord)) !== 0) count++;
    }
    return count;
  }

  /**
   * Takes a free slot for `partition` with a new process-wide token id.
   * @throws RangeError when every slot is taken.
   */
  claim(partition: PartitionHandle): RegistrySlot {
    const id = Atomics.add(this.#words, REGISTRY_LAYOUT.nextIdWord, 1) + 1;
    for (let slot = 0; slot < REGISTRY_LAYOUT.slotCount; slot++) {
      const idWord = this.#word(slot, REGISTRY_LAYOUT.idWord);
      if (Atomics.compareExchange(this.#words, idWord, 0, id) !== 0) continue;
      const stateWord = this.#word(slot, REGISTRY_LAYOUT.stateWord);
      const pinWord = this.#word(slot, REGISTRY_LAYOUT.pinWord);
      Atomics.store(this.#words, stateWord, 0);
      this.#handles[(slot * REGISTRY_LAYOUT.slotSize + REGISTRY_LAYOUT.handleByte) / 8] = partition;
      Atomics.and(this.#words, pinWord, PIN_MASK);
      return {
        id,
        state: this.#states.subarray(stateWord, stateWord + 1),
        release: () => {
          Atomics.or(this.#words, pinWord, CLOSING);
          // Cancels that pinned the slot are inside one WHvCancelRunVirtualProcessor: microseconds.
          while ((Atomics.load(this.#words, pinWord) & PIN_MASK) !== 0);
          Atomics.store(this.#words, idWord, 0);
        },
      };
    }
    throw new RangeError(`more than ${REGISTRY_LAYOUT.slotCount} WHP VMs in one process`);
  }

  /**
   * Cancels the open call of VM `id` with reason `code` (first reason wins),
   * and stops its vCPU if it runs. With `seq`, only that call (timeouts).
   * @returns whether this cancel took effect.
   */
  cancel(id: number, code: number, seq?: number): boolean {
    if (!Number.isSafeInteger(id) || id < 1) return false;
    for (let slot = 0; slot < REGISTRY_LAYOUT.slotCount; slot++) {
      if (Atomics.load(this.#words, this.#word(slot, REGISTRY_LAYOUT.idWord)) !== id) continue;
      const pinWord = this.#word(slot, REGISTRY_LAYOUT.pinWord);
      if (!this.#pin(pinWord)) return false; // being deleted
      try {
        // Checked again under the pin: the slot cannot be freed and reused now.
        if (Atomics.load(this.#words, this.#word(slot, REGISTRY_LAYOUT.idWord)) !== id) return false;
        if (setCancelReason(this.#states, this.#word(slot, REGISTRY_LAYOUT.stateWord), code, seq) === undefined) return false;
        this.#cancelRun(this.#handles[(slot * REGISTRY_LAYOUT.slotSize + REGISTRY_LAYOUT.handleByte) / 8]!);
        return true;
      } finally {
        Atomics.sub(this.#words, pinWord, 1);
      }
    }
    return false;
  }

  #pin(pinWord: number): boolean {
    for (;;) {
      const pins = Atomics.load(this.#words, pinWord);
      if ((pins & CLOSING) !== 0) return false;
      if (Atomics.compareExchange(this.#words, pinWord, pins, pins + 1) === pins) return true;
    }
  }

  #word(slot: number, word: number): number {
    return (REGISTRY_LAYOUT.headerSize + slot * REGISTRY_LAYOUT.slotSize) / 4 + word;
  }
}
