/**
 * The lowest layer of the MSHV backend: a thin surface over `/dev/mshv` that
 * the native addon implements (`src/native/`) and the tests replace with a
 * recording stand-in. Every byte of every ioctl argument is built and decoded
 * in TypeScript; the addon only adds what JavaScript cannot: file descriptors,
 * host addresses of buffers and memory, mmap, and a blocking `MSHV_RUN_VP`
 * that another thread can interrupt.
 *
 * Failed syscalls throw Node-style system errors (`errno`, `code`); the layer
 * above turns them into `MshvError`s naming the ioctl.
 */
import type { GuestMemory, NativeCallTarget, SnapshotMemory } from '@hyperlight-ts/native-linux';

export type { GuestMemory, SnapshotMemory };

/** A buffer whose host address the addon writes into an ioctl argument. */
export interface PointerArg {
  /** Byte offset in the argument where the u64 address goes. */
  readonly offset: number;
  /**
   * The bytes: copied to a page-aligned buffer before the ioctl, and the
   * buffer copied back here afterwards (also when it fails).
   */
  readonly data: Uint8Array;
}

/** An open fd of `/dev/mshv`, a partition or a VP. */
export interface MshvFd extends Disposable {
  /**
   * `ioctl(fd, request, arg)`. The kernel reads and writes `arg` in place;
   * each `pointers` entry's address is patched into `arg` first.
   * @returns the ioctl's non-negative result.
   * @throws a system error (`errno`, `code`) when it fails; `arg` then holds what the kernel wrote back.
   */
  ioctl(request: number, arg?: Uint8Array, pointers?: readonly PointerArg[]): number;
  /** Closes the fd. Idempotent. */
  dispose(): void;
}

/** The `/dev/mshv` system fd. */
export interface MshvDevice extends MshvFd {
  /**
   * `MSHV_CREATE_PARTITION` with `arg` (`struct mshv_create_partition`).
   * @throws a system error (ENOTTY/EINVAL from a driver with another ABI).
   */
  createPartition(arg: Uint8Array): MshvPartition;
}

/** A partition fd. */
export interface MshvPartition extends MshvFd {
  /**
   * `MSHV_CREATE_VP` with `arg` (`struct mshv_create_vp`), then maps the VP's
   * register page. With `workerThread` (the VP belongs to a worker thread) the
   * addon interrupts long runs now and then so `worker.terminate()` can act.
   * @throws a system error; EAGAIN when no real-time signal is free to kick vCPUs with.
   */
  createVp(arg: Uint8Array, options?: { readonly workerThread?: boolean }): MshvVp;
  /**
   * `MSHV_SET_GUEST_MEMORY` with `arg` (`struct mshv_user_mem_region`); the
   * addon writes `memory`'s host address into `userspace_addr`. A mapping
   * keeps `memory`'s address range reserved until it is unmapped (the UNMAP
   * flag) or the partition is gone, so the guest can never reach what the
   * host maps there next.
   * @throws TypeError unless `memory` is a GuestMemory of this surface; a system error.
   */
  setGuestMemory(arg: Uint8Array, memory: GuestMemory): void;
}

/**
 * A VP (virtual processor) fd with its message buffer, register page and
 * cancellation state (native-linux's call-guard members).
 */
export interface MshvVp extends MshvFd, NativeCallTarget {
  /** 256 bytes, zero-copy: the `struct hv_message` of the last run. */
  readonly message: ArrayBuffer;
  /**
   * The register page (`hv_vp_register_page`), zero-copy, or null when the
   * kernel offers none (ENODEV). Meaningful only while its `isvalid` byte is set.
   */
  readonly registerPage: ArrayBuffer | null;
  /**
   * `MSHV_RUN_VP` into `message`, under the VP's run control (a cancel kicks
   * the thread out with a signal, repeatedly until it has left).
   * @returns the type of the message that arrived (`HVMSG`), or `HVMSG.NONE`
   *   when the run was interrupted: a signal (EINTR: a cancel, a kick for the
   *   watchdog, a stray signal) or the hypervisor asking for it again (EAGAIN).
   * @throws a system error for any other failure.
   */
  run(): number;
  /**
   * {@link run} on the VP's own thread; `done` is called on this thread's
   * event loop with what `run` returns or throws. Interruptions without a
   * cancel reason in the call-state word are re-entered on that thread. While
   * pending only the call-guard members and `dispose` may be used; `dispose()`
   * stops the run and `done` is not called.
   */
  runAsync(done: (error: Error | null, messageType: number) => void): void;
}

/** The whole surface: what the addon exports, or a stand-in. */
export interface MshvSurface {
  /**
   * Opens `path` read-write, close-on-exec.
   * @throws a system error (`syscall: 'open'`): ENOENT, EACCES, ...
   */
  openDevice(path: string): MshvDevice;
  /** New zeroed guest memory, or `snapshot` mapped copy-on-write. */
  createGuestMemory(memorySize: number, snapshot?: SnapshotMemory): GuestMemory;
  /** Whether `value` is a snapshot this surface made. */
  isSnapshot(value: unknown): value is SnapshotMemory;
  /** `size` bytes of the regular file `fd` from `offset`, mapped without copying. */
  mapSnapshotFile(fd: number, offset: number, size: number): SnapshotMemory;
  /** Cancels the open call of the VP whose `cancelId` is `id`, from any thread. */
  cancelCall(id: number, reasonCode: number): boolean;
}
