/**
 * Time limits of guest calls. The VM's thread is blocked inside
 * WHvRunVirtualProcessor while a guest runs, so its own timers cannot fire:
 * one worker thread per loading thread keeps the deadlines and cancels
 * through the process-wide registry (see `watchdog-worker.ts`). The worker is
 * started on the first timed call and does not keep the process alive.
 */
import { Worker } from 'node:worker_threads';
import type { CallTimer } from './whp-call-target.js';

/** A message to the watchdog worker. */
export type WatchdogMessage =
  | { readonly op: 'arm'; readonly id: number; readonly seq: number; readonly timeoutMs: number }
  | { readonly op: 'disarm'; readonly id: number };

/** A {@link CallTimer} that posts deadlines to a watchdog worker. */
export class WatchdogTimer implements CallTimer {
  #worker: Worker | undefined;
  readonly #workerUrl: URL;

  /** @param workerUrl - the worker's module (defaults to the built `watchdog-worker.js` beside this file) */
  constructor(workerUrl: URL = new URL('./watchdog-worker.js', import.meta.url)) {
    this.#workerUrl = workerUrl;
  }

  /** Asks the worker to cancel call `seq` of VM `id` in `timeoutMs` (unless disarmed or ended first). */
  arm(id: number, seq: number, timeoutMs: number): void {
    this.#post({ op: 'arm', id, seq, timeoutMs });
  }

  /** Forgets VM `id`'s deadline. */
  disarm(id: number): void {
    if (this.#worker !== undefined) this.#post({ op: 'disarm', id });
  }

  #post(message: WatchdogMessage): void {
    if (this.#worker === undefined) {
      this.#worker = new Worker(this.#workerUrl);
      this.#worker.unref();
    }
    this.#worker.postMessage(message);
  }
}
