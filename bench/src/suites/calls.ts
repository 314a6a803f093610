/**
 * Call figures: calls with arguments from nothing to 1 MiB next to the
 * floor's exit round trip; a sync call next to the same call made async, with a time
 * limit, and with a host call (sync and async host function); what the call
 * guard adds to every sync call; and how long a stopped guest takes to give
 * the call back (kill from the same thread, kill from a worker, time limit).
 */
import { Worker } from 'node:worker_threads';
import { GuestBinary, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { MIB_CALL_CONFIGURATION } from '../configurations.js';
import { FLOOR_ROUND_TRIP, floorCopyRow } from '../floor-rows.js';
import { callGuard, timeGuestRuns } from '../internals.js';
import { summarize, timeMicros, timeMicrosAsync, type Iterations } from '../measure.js';
import { Recorder, type Row } from '../report.js';

/** Options for {@link callsSuite}. */
export interface CallsSuiteOptions {
  /** Few iterations: a smoke test, not a measurement. */
  readonly quick: boolean;
  /** Which simpleguest to run. */
  readonly guest: 'rust' | 'c';
  /** Rows of earlier suites (the floor rows this suite compares with). */
  readonly earlier: readonly Row[];
}

/** How long a guest spins before it is stopped, in ms. */
const SPIN_MS = 20;
/** A time limit on every spinning call, so a kill that never lands fails the bench instead of hanging it. */
const STOP_LIMIT_MS = 30_000;

function plan(quick: boolean): { call: Iterations; bigCall: Iterations; guard: Iterations; stop: Iterations } {
  return quick
    ? { call: { warmup: 5, timed: 20 }, bigCall: { warmup: 2, timed: 5 }, guard: { warmup: 1000, timed: 1000 }, stop: { warmup: 1, timed: 3 } }
    : { call: { warmup: 50, timed: 1000 }, bigCall: { warmup: 5, timed: 100 }, guard: { warmup: 10_000, timed: 100_000 }, stop: { warmup: 3, timed: 50 } };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A worker that kills the sandbox whose handle it is sent, `delayMs` after
 * the message, and stores `process.hrtime.bigint()` of the kill in `stamp[0]`
 * (the monotonic clock is the same in every thread).
 */
const KILLER = `
const { parentPort } = require('node:worker_threads');
const { InterruptHandle } = require('@hyperlight-ts/core');
parentPort.on('message', ({ handle, delayMs, stamp }) => {
  setTimeout(() => {
    const killAt = new BigInt64Array(stamp);
    killAt[0] = process.hrtime.bigint();
    InterruptHandle.from(handle).kill();
  }, delayMs);
});
`;

/** Chart fields of a sync call row carrying `payloadBytes` each way. */
const chart = (payloadBytes: number): { payloadBytes: number; series: string } => ({ payloadBytes, series: 'hyperlight-ts call()' });

/** Runs the suite and returns its rows and notes. */
export async function callsSuite(options: CallsSuiteOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const record = new Recorder('calls', options.earlier);
  const iterations = plan(options.quick);
  const binary = GuestBinary.fromFile(guestPath(options.guest, 'simpleguest'));
  const make = (hostAdd: (a: number, b: number) => number | Promise<number>, config: SandboxConfiguration = {}): MultiUseSandbox => {
    const u = UninitializedSandbox.create(binary, config);
    u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, hostAdd);
    return u.evolve();
  };
  record.note(`${options.guest} simpleguest, default sizes (1 MiB calls: 2 MiB buffers, 8 MiB heap). Ratios to the floor: a call enters the guest and takes one exit back, so it compares with one exit round trip; a call with a host call with two. Stop rows: the guest runs \`Spin\` for ${SPIN_MS} ms first; the sandbox is restored (untimed) after each.`);

  const sandbox = make((a, b) => a + b);
  const asyncHost = make(async (a, b) => a + b);
  const killer = new Worker(KILLER, { eval: true });
  killer.on('error', (error) => {
    console.error(`calls: the killer worker failed: ${String(error)}`);
  });
  try {
    const sync = 'call EchoI32';
    const check = <T>(expected: T, got: T): T => {
      if (got !== expected) throw new Error(`expected ${String(expected)}, got ${String(got)}`);
      return got;
    };
    record.add('call VoidFunction', 'µs', summarize(timeMicros(iterations.call, () => sandbox.call('VoidFunction', 'void'))), {
      relativeTo: FLOOR_ROUND_TRIP,
      target: 1.5,
    });
    record.add(sync, 'µs', summarize(timeMicros(iterations.call, () => check(42, sandbox.call('EchoI32', 'i32', 42)))), {
      relativeTo: FLOOR_ROUND_TRIP,
      target: 1.5,
      ...chart(4),
    });
    const runs = timeGuestRuns(sandbox);
    const inGuest: number[] = [];
    const outside: number[] = [];
    for (let i = 0; i < iterations.call.warmup + iterations.call.timed; i++) {
      runs.reset();
      const start = process.hrtime.bigint();
      check(42, sandbox.call('EchoI32', 'i32', 42));
      const totalUs = Number(process.hrtime.bigint() - start) / 1000;
      if (i < iterations.call.warmup) continue;
      inGuest.push(runs.elapsedUs());
      outside.push(totalUs - runs.elapsedUs());
    }
    runs.stop();
    record.add('call EchoI32: inside the VM run', 'µs', summarize(inGuest), {
      relativeTo: FLOOR_ROUND_TRIP,
      note: 'the part of each call spent in the backend run (KVM_RUN: entry, the guest runtime\'s work, the exit)',
    });
    record.add('call EchoI32: host side', 'µs', summarize(outside), {
      relativeTo: FLOOR_ROUND_TRIP,
      note: 'the rest: argument checks, encoding, the call guard, reading the result',
    });
    const text = 'x'.repeat(1000);
    record.add('call EchoString, 1000 chars', 'µs', summarize(timeMicros(iterations.call, () => check(text, sandbox.call('EchoString', 'string', text)))), {
      relativeTo: FLOOR_ROUND_TRIP,
      ...chart(text.length),
    });
    const kib = new Uint8Array(1024).fill(7);
    record.add('call EchoBytes, 1 KiB', 'µs', summarize(timeMicros(iterations.call, () => check(1024, sandbox.call('EchoBytes', 'bytes', kib).byteLength))), {
      relativeTo: FLOOR_ROUND_TRIP,
      ...chart(kib.byteLength),
    });
    const large = UninitializedSandbox.create(binary, MIB_CALL_CONFIGURATION).evolve();
    try {
      const mibBytes = new Uint8Array(1024 * 1024).fill(9);
      record.add(
        'call EchoBytes, 1 MiB',
        'µs',
        summarize(timeMicros(iterations.bigCall, () => check(mibBytes.byteLength, large.call('EchoBytes', 'bytes', mibBytes).byteLength))),
        { relativeTo: floorCopyRow(256), note: '1 MiB into the guest and 1 MiB back; the guest copies it too', ...chart(mibBytes.byteLength) },
      );
    } finally {
      large.dispose();
    }
    const limited = sandbox.with({ timeoutMs: 60_000 });
    record.add('call EchoI32, timeoutMs', 'µs', summarize(timeMicros(iterations.call, () => limited.call('EchoI32', 'i32', 42))), {
      relativeTo: sync,
      note: 'arms and disarms the backend watchdog',
    });
    const guard = callGuard(sandbox);
    record.add(
      'call guard begin + end',
      'µs',
      summarize(timeMicros(iterations.guard, () => {
        guard.begin();
        guard.end();
      })),
      { relativeTo: sync, note: 'what cancellation support adds to every sync call' },
    );
    record.add('callAsync EchoI32', 'µs', summarize(await timeMicrosAsync(iterations.call, () => sandbox.callAsync('EchoI32', 'i32', 42))), {
      relativeTo: sync,
      note: 'the guest runs on the sandbox vCPU thread; one hop there and back',
    });

    const hostSync = 'call CallHostAdd';
    record.add(hostSync, 'µs', summarize(timeMicros(iterations.call, () => check(3, sandbox.call('CallHostAdd', 'i32', 1, 2)))), {
      relativeTo: FLOOR_ROUND_TRIP,
      factor: 2,
      target: 1.5,
      note: 'one host call: two exits',
    });
    record.add('callAsync CallHostAdd', 'µs', summarize(await timeMicrosAsync(iterations.call, () => sandbox.callAsync('CallHostAdd', 'i32', 1, 2))), {
      relativeTo: hostSync,
    });
    record.add(
      'callAsync CallHostAdd, async HostAdd',
      'µs',
      summarize(await timeMicrosAsync(iterations.call, () => asyncHost.callAsync('CallHostAdd', 'i32', 1, 2))),
      { relativeTo: hostSync, note: 'the host function returns a Promise' },
    );

    const clean = sandbox.snapshot();
    const handle = sandbox.interruptHandle();
    const restore = (): void => sandbox.restore(clean);
    const expectStopped = (error: unknown, code: string): void => {
      if ((error as { code?: string })?.code !== code) throw new Error(`expected ${code}, got ${String(error)}`);
    };

    const killAsync = await timeMicrosAsync(
      iterations.stop,
      async ({ pending }: { pending: Promise<unknown> }) => {
        handle.kill();
        expectStopped(await pending, 'HL_ERR_GUEST_CANCELLED');
      },
      async () => {
        const pending = sandbox.with({ timeoutMs: STOP_LIMIT_MS }).callAsync('Spin', 'void').catch((error: unknown) => error);
        await sleep(SPIN_MS);
        // Wrapped: an async function returning the promise itself would wait for it to settle.
        return { pending };
      },
      restore,
    );
    record.add('kill() → callAsync rejects', 'µs', summarize(killAsync), { note: 'kill from the same thread while the guest spins' });

    const stamp = new SharedArrayBuffer(8);
    const killAt = new BigInt64Array(stamp);
    const killSync: number[] = [];
    for (let i = 0; i < iterations.stop.warmup + iterations.stop.timed; i++) {
      killer.postMessage({ handle, delayMs: SPIN_MS, stamp });
      let error: unknown;
      try {
        // The limit only keeps a killer that never kills from hanging the bench.
        sandbox.with({ timeoutMs: STOP_LIMIT_MS }).call('Spin', 'void');
      } catch (e) {
        error = e;
      }
      const thrownAt = process.hrtime.bigint();
      expectStopped(error, 'HL_ERR_GUEST_CANCELLED');
      if (i >= iterations.stop.warmup) killSync.push(Number(thrownAt - killAt[0]!) / 1000);
      restore();
    }
    record.add('kill() from a worker → call throws', 'µs', summarize(killSync), { note: 'the sync call blocks its thread; the worker kills it' });

    for (const kind of ['call', 'callAsync'] as const) {
      const late: number[] = [];
      for (let i = 0; i < iterations.stop.warmup + iterations.stop.timed; i++) {
        const start = process.hrtime.bigint();
        const scoped = sandbox.with({ timeoutMs: SPIN_MS });
        let error: unknown;
        try {
          await (kind === 'call' ? scoped.call('Spin', 'void') : scoped.callAsync('Spin', 'void'));
        } catch (e) {
          error = e;
        }
        const elapsed = Number(process.hrtime.bigint() - start) / 1000;
        expectStopped(error, 'HL_ERR_GUEST_TIMEOUT');
        if (i >= iterations.stop.warmup) late.push(elapsed - SPIN_MS * 1000);
        restore();
      }
      record.add(`timeoutMs ${SPIN_MS} → ${kind} throws, past the limit`, 'µs', summarize(late), {
        note: 'time from the limit to the error, measured from the start of the call',
      });
    }
    clean.dispose();
  } finally {
    await killer.terminate();
    sandbox.dispose();
    asyncHost.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
