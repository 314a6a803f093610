/** The main thread's side of support/cancel-worker.mjs. */
import { Worker } from 'node:worker_threads';
import type { InterruptHandle } from '@hyperlight-ts/core';
import type { GuestLanguage } from './guests.js';
import { settle } from './timing.js';

const SCRIPT = new URL('./cancel-worker.mjs', import.meta.url);

/** A message from the worker. */
export type Reply = { reply: string } & Record<string, unknown>;

/** An error as the worker copies it. */
export interface ErrorCopy {
  name?: string;
  code?: string;
  message?: string;
  reason?: string;
  limit?: string;
}

const live = new Set<CancelWorker>();

/** A worker running support/cancel-worker.mjs. */
export class CancelWorker {
  readonly worker: Worker;
  readonly errors: Error[] = [];
  readonly exited: Promise<number>;
  readonly #queued: Reply[] = [];
  readonly #waiting: Array<(reply: Reply) => void> = [];

  constructor() {
    this.worker = new Worker(SCRIPT);
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(reply);
      else this.#queued.push(reply);
    });
    this.worker.on('error', (error) => this.errors.push(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        live.delete(this);
        resolve(code);
      });
    });
    live.add(this);
  }

  /** A worker that has loaded its modules. */
  static async start(): Promise<CancelWorker> {
    const w = new CancelWorker();
    await w.expect('ready');
    return w;
  }

  /** The next message; rejects when the worker exits first or nothing comes within `limitMs`. */
  async next(limitMs = 60_000): Promise<Reply> {
    const queued = this.#queued.shift();
    if (queued) return queued;
    const reply = new Promise<Reply>((resolve) => this.#waiting.push(resolve));
    const exit = this.exited.then((code): never => {
      throw new Error(`the worker exited with code ${code}; errors: ${this.errors.map(String).join('; ')}`);
    });
    const outcome = await settle(Promise.race([reply, exit]), limitMs, 'a message from the worker');
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** The next message, which must be `kind`. @throws Error with what came instead. */
  async expect(kind: string, limitMs?: number): Promise<Reply> {
    const reply = await this.next(limitMs);
    if (reply.reply !== kind) throw new Error(`expected "${kind}" from the worker, got ${JSON.stringify(reply)}`);
    return reply;
  }

  post(cmd: string, args: Record<string, unknown> = {}): void {
    this.worker.postMessage({ cmd, ...args });
  }

  /**
   * Has the worker kill through `handle` once the main thread sets
   * `flag[0]` and `delayMs` have passed; the reply (`killed`, `at`) comes
   * with {@link expect}('kill-after').
   */
  killAfter(handle: InterruptHandle, flag: Int32Array, delayMs: number): void {
    this.post('kill-after', { handle, flag, delayMs });
  }

  /** Has the worker make a sandbox of its own and call Spin in it. */
  spin(language: GuestLanguage, mode: 'sync' | 'async', timeoutMs: number): void {
    this.post('spin', { language, mode, timeoutMs });
  }
}

/** Terminates every worker still running (after a failed test). */
export async function terminateCancelWorkers(): Promise<void> {
  await Promise.all([...live].map((w) => w.worker.terminate()));
}

/** A flag the main thread raises for a worker waiting on it (slot 0), with room for a reply (slot 1). */
export function sharedFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(8));
}

/** Raises slot 0 of `flag` and wakes the worker waiting on it. */
export function raise(flag: Int32Array): void {
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
