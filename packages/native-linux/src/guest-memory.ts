/**
 * Types of the memory classes every Linux backend's addon compiles in from
 * `src/native` (`guest_memory.{h,cc}`, `snapshot_memory.{h,cc}`). Failed
 * syscalls throw Node-style system errors (`code`, `errno`, `syscall`); after
 * `dispose()` every member throws `Error` with `code: 'ERR_HYPERLIGHT_DISPOSED'`.
 */

/**
 * Guest RAM mapped into this process, exposed as a zero-copy external
 * `ArrayBuffer` at an address that never changes (the address a hypervisor
 * maps). At first it is its own memfd (sealed against resizing) mapped
 * `MAP_SHARED`; once created from, snapshotted to or restored to a
 * {@link SnapshotMemory} it is that snapshot mapped copy-on-write
 * (`MAP_PRIVATE`): reads share the snapshot's pages, writes land in pages
 * private to this memory.
 */
export interface GuestMemory extends Disposable {
  /**
   * The memory, zero-copy; the same object for the GuestMemory's whole life.
   * `dispose()` detaches it (length 0) before anything is unmapped.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly buffer: ArrayBuffer;
  /**
   * Bytes of memory.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly memorySize: number;
  /**
   * Copies the current contents into a new sealed memfd (all-zero and
   * never-touched pages stay holes and cost nothing) and continues
   * copy-on-write over it, so a later `restore()` of it costs only the pages
   * written in between. Must not be called while a vCPU runs in this memory.
   * @throws system error (`memfd_create`, `pwrite`, `mmap`, `open` of
   *   `/proc/self/pagemap`, ...) when the copy cannot be made; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  snapshot(): SnapshotMemory;
  /**
   * Makes every byte equal to `snapshot` again, at the same address. When the
   * memory is already copy-on-write over `snapshot`, the pages private to it
   * (found in the kernel's page tables, `/proc/self/pagemap`) are discarded
   * and all others stay mapped; otherwise it is remapped over `snapshot`. Must
   * not be called while a vCPU runs in this memory.
   * @throws TypeError unless `snapshot` is a SnapshotMemory; RangeError when its
   *   size differs; system error (`mmap`); `ERR_HYPERLIGHT_DISPOSED` after
   *   dispose of either. When `mmap` fails after the kernel already dropped the
   *   old contents (Linux before 6.12), the GuestMemory is disposed too.
   */
  restore(snapshot: SnapshotMemory): void;
  /**
   * Pages this memory holds that no snapshot shares: written since it last
   * matched a snapshot (what `restore()` discards), or, before any snapshot,
   * every page ever touched.
   * @throws system error when `/proc/self/pagemap` cannot be read; `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  privatePageCount(): number;
  /**
   * Detaches `buffer` and closes the memfd (or lets go of the snapshot). The
   * mapping itself goes when no hypervisor mapping uses it any more. Idempotent.
   */
  dispose(): void;
}

/** Constructor of {@link GuestMemory}. */
export interface GuestMemoryConstructor {
  /**
   * Creates `memorySize` bytes of zeroed memory, or, given `snapshot`, that
   * snapshot mapped copy-on-write (nothing is copied).
   * @throws RangeError unless `memorySize` is a positive multiple of 4096 equal
   *   to `snapshot.size`; TypeError when `snapshot` is not a SnapshotMemory;
   *   `ERR_HYPERLIGHT_DISPOSED` when it was disposed; system error
   *   (`memfd_create`, `ftruncate`, `mmap`) when the memory cannot be created.
   */
  new (memorySize: number, snapshot?: SnapshotMemory): GuestMemory;
  readonly prototype: GuestMemory;
}

/**
 * An immutable image of guest memory: a sealed memfd (from
 * {@link GuestMemory.snapshot}) or a window of a file on disk (the addon's
 * `mapSnapshotFile`). Structurally a core `MemorySnapshot`. `dispose()`
 * releases this object's hold only: GuestMemories mapping the image keep it
 * (and its fd) until they stop mapping it.
 */
export interface SnapshotMemory extends Disposable {
  /**
   * Bytes; a multiple of 4096.
   * @throws `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  readonly size: number;
  /**
   * Copies `target.byteLength` bytes from byte `offset` into `target` with
   * `pread` (holes read as zeros without allocating memory).
   * @throws TypeError unless `target` is a Uint8Array; RangeError when the range
   *   lies outside the snapshot; system error (`pread`; EIO when a snapshot file
   *   shrank); `ERR_HYPERLIGHT_DISPOSED` after dispose.
   */
  read(offset: number, target: Uint8Array): void;
  /** Releases this object's hold on the image. Idempotent. */
  dispose(): void;
}
