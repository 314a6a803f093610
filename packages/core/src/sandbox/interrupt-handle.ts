/**
 * Stops a sandbox's guest call from anywhere in the process: another
 * function on the same thread, a timer, or another worker thread.
 */
import type { Backend, BackendName, CancelToken } from '../backend/backend.js';
import { discoverBackend } from '../backend/discover.js';

/**
 * Stops the guest call a sandbox is running. Get one with
 * `sandbox.interruptHandle()`. One handle serves the sandbox for its whole
 * life (across calls and `restore()`).
 *
 * It is plain data underneath: `worker.postMessage(handle)` copies it, and
 * `InterruptHandle.from(message)` turns the copy back into a handle in the
 * worker.
 *
 * Rules (docs/calls.md):
 * - `kill()` stops the call in progress; the call throws
 *   `GuestCancelledError` (reason `'killed'`) and the sandbox is poisoned
 *   until `restore()`.
 * - With no call in progress, `kill()` does nothing: it never affects a later call.
 * - During a host function, the kill takes effect when the host function
 *   returns, before the guest runs again.
 */
export class InterruptHandle implements CancelToken {
  /** The sandbox's backend. */
  readonly backend: BackendName;
  /** Which VM of the process the handle stops. */
  readonly id: number;
  readonly #backend: Backend;

  /** @internal Use `sandbox.interruptHandle()` or {@link InterruptHandle.from}. */
  constructor(token: CancelToken, backend: Backend) {
    this.backend = token.backend;
    this.id = token.id;
    this.#backend = backend;
  }

  /**
   * Turns a handle that crossed a thread boundary (`postMessage` copies only
   * its data) back into a handle. Loads the backend in this thread if needed
   * (once per thread; it can take a while), so that `kill()` itself is quick.
   * @throws TypeError when `data` is not a copy of an `InterruptHandle`.
   * @throws BackendUnavailableError when the backend cannot be loaded in this thread.
   * @example
   * // worker.js
   * parentPort.on('message', (data) => setTimeout(() => InterruptHandle.from(data).kill(), 100));
   */
  static from(data: CancelToken): InterruptHandle {
    const { backend, id } = (data ?? {}) as Partial<CancelToken>;
    if (typeof backend !== 'string' || typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
      throw new TypeError('InterruptHandle.from(data): expected a copy of an InterruptHandle ({ backend, id })');
    }
    // Loading the backend here, not in kill(), keeps the first kill() as fast as the others.
    return new InterruptHandle({ backend, id }, discoverBackend({ choice: backend }));
  }

  /**
   * Stops the guest call in progress, from any thread.
   * @returns true when a call was in progress and this kill stopped it (the
   *   call then throws); false when none was (or it was already being stopped,
   *   or the sandbox is gone).
   * @example
   * const handle = sandbox.interruptHandle();
   * setTimeout(() => handle.kill(), 1000);
   * await sandbox.callAsync('Spin', 'void'); // throws GuestCancelledError
   */
  kill(): boolean {
    return this.#backend.cancelCall({ backend: this.backend, id: this.id }, 'killed');
  }
}
