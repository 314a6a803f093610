/**
 * The host side of a call, natively: sandboxes of the Rust simpleguest's
 * binary on an in-process stand-in backend (stand-in-backend.ts) that answers
 * every call at once, so each row is what `call()` costs the host —
 * argument checks, encoding, the run loop, the call guard, decoding — with
 * no hypervisor in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GuestBinary, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import type { CallResult, GuestFunctionSignature } from '@hyperlight-ts/core/backend';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { GuestTracer } from '@hyperlight-ts/tracing';
import { summarize, timeMicros, type Iterations } from '../measure.js';
import { Recorder, type AddOptions, type Row } from '../report.js';
import { standInBackend, type StandInGuest } from '../stand-in-backend.js';
import { callRecords } from '../trace-records.js';

const MIB = 1024 * 1024;
/** Input and output buffers big enough for 1 MiB of bytes and the message around it. */
const BUFFER_SIZE = 2 * MIB;

/** Timed samples of a batch of calls each (a sample is the mean per call: one call is near the clock's resolution). */
interface Plan {
  readonly small: Iterations;
  readonly large: Iterations;
  /** Calls per sample of the small rows. */
  readonly batch: number;
  readonly create: Iterations;
}

function plan(quick: boolean): Plan {
  return quick
    ? { small: { warmup: 20, timed: 20 }, large: { warmup: 3, timed: 10 }, batch: 100, create: { warmup: 3, timed: 10 } }
    : { small: { warmup: 500, timed: 2000 }, large: { warmup: 50, timed: 500 }, batch: 100, create: { warmup: 20, timed: 300 } };
}

/** The functions of the simpleguest the rows call, with the signatures it declares. */
const FUNCTIONS: readonly GuestFunctionSignature[] = [
  { name: 'VoidFunction', parameters: [], returnType: 'void' },
  { name: 'EchoI32', parameters: ['i32'], returnType: 'i32' },
  { name: 'EchoString', parameters: ['string'], returnType: 'string' },
  { name: 'EchoBytes', parameters: ['bytes'], returnType: 'bytes' },
  { name: 'CallHostAdd', parameters: ['i32', 'i32'], returnType: 'i32' },
];

/** Chart fields of a call row carrying `payloadBytes` each way. */
const chart = (payloadBytes: number): AddOptions => ({ payloadBytes, series: 'hyperlight-ts call(), host side' });

/** Throws unless `actual` equals `expected` (byte arrays by content). */
function expectValue(row: string, actual: unknown, expected: unknown): void {
  const same =
    actual instanceof Uint8Array && expected instanceof Uint8Array
      ? actual.byteLength === expected.byteLength && Buffer.compare(actual, expected) === 0
      : Object.is(actual, expected);
  if (!same) throw new Error(`${row}: the stand-in call returned ${String(actual).slice(0, 40)}, expected ${String(expected).slice(0, 40)}`);
}

/** Runs the suite and returns its rows and notes. */
export async function hostSideSuite(options: { quick: boolean }): Promise<{ rows: Row[]; notes: string[] }> {
  const record = new Recorder('host side');
  const iterations = plan(options.quick);
  const binary = GuestBinary.fromFile(guestPath('rust', 'simpleguest'));
  const sandboxes: MultiUseSandbox[] = [];
  let hostCalls = 0;
  const make = (guest: Omit<StandInGuest, 'functions'>, config: SandboxConfiguration = {}): MultiUseSandbox => {
    const u = UninitializedSandbox.create(binary, { backend: standInBackend({ functions: FUNCTIONS, ...guest }), inputSize: BUFFER_SIZE, outputSize: BUFFER_SIZE, ...config });
    u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
      hostCalls++;
      return a + b;
    });
    const sandbox = u.evolve();
    sandboxes.push(sandbox);
    return sandbox;
  };
  const returning = (value: CallResult & { ok: true }): MultiUseSandbox => make({ result: value });

  /**
   * Times `fn` (one call) and records it; every call's result is checked
   * against `expected` outside the timed part.
   */
  const measure = (name: string, fn: () => unknown, expected: unknown, large: boolean, extra: AddOptions = {}): void => {
    const batch = large ? 1 : iterations.batch;
    const results: unknown[] = new Array(batch);
    const samples = timeMicros(
      large ? iterations.large : iterations.small,
      () => {
        for (let i = 0; i < batch; i++) results[i] = fn();
      },
      undefined,
      () => {
        for (const result of results) expectValue(name, result, expected);
      },
    );
    record.add(name, 'µs', summarize(samples.map((micros) => micros / batch)), extra);
  };
  record.note(
    `Natively, no hypervisor: a stand-in backend answers each call at once with a result encoded in advance. Input and output buffers ${BUFFER_SIZE / MIB} MiB. ` +
      `Small rows: each sample is the mean of ${iterations.batch} calls; the 1 MiB rows time single calls.`,
  );
  try {
    const voidSandbox = returning({ ok: true, value: { type: 'void', value: undefined } });
    measure('call VoidFunction', () => voidSandbox.call('VoidFunction', 'void'), undefined, false);
    const scalar = 'call EchoI32';
    const i32Sandbox = returning({ ok: true, value: { type: 'i32', value: 42 } });
    measure(scalar, () => i32Sandbox.call('EchoI32', 'i32', 42), 42, false, { maxMedian: 0.5, ...chart(4) });

    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(23).slice(0, 1000);
    const stringSandbox = returning({ ok: true, value: { type: 'string', value: text } });
    measure('call EchoString, 1000 chars', () => stringSandbox.call('EchoString', 'string', text), text, false, { maxMedian: 1.5, ...chart(1000) });

    // Tracing: with a collector that wants nothing the guest records nothing; a traced call leaves
    // RUN_START and the runtime's guest_call span (what tracedguest with runtime spans on leaves).
    const i32Result: CallResult = { ok: true, value: { type: 'i32', value: 42 } };
    const idle = make({ result: i32Result }, { tracing: new GuestTracer({ level: 'off', openTelemetry: false }) });
    measure('call EchoI32, collector at level off', () => idle.call('EchoI32', 'i32', 42), 42, false, {
      relativeTo: scalar,
      note: 'the session is asked for its settings and told the run ended; core writes the trace header and checks the area at the exit',
    });
    let spans = 0;
    const tracer = new GuestTracer({ level: 'info', runtimeSpans: true, openTelemetry: false, onSpan: () => spans++ });
    const traced = make({ result: i32Result, traceRecords: callRecords({ name: 'guest_call', target: 'hyperlight_guest', key: 'function', value: 'EchoI32' }) }, { tracing: tracer });
    measure('call EchoI32, traced', () => traced.call('EchoI32', 'i32', 42), 42, false, {
      relativeTo: scalar,
      note: 'one span with one field per call, decoded, timed and handed to an onSpan callback',
    });
    if (spans !== (iterations.small.warmup + iterations.small.timed) * iterations.batch) throw new Error(`call EchoI32, traced: ${spans} spans delivered`);
    const traceDir = mkdtempSync(join(tmpdir(), 'hl-bench-trace-'));
    try {
      const toFile = make({ result: i32Result, traceRecords: callRecords({ name: 'guest_call', target: 'hyperlight_guest', key: 'function', value: 'EchoI32' }) }, {
        tracing: new GuestTracer({ level: 'info', runtimeSpans: true, openTelemetry: false, file: join(traceDir, 'trace.jsonl') }),
      });
      measure('call EchoI32, traced to a trace file', () => toFile.call('EchoI32', 'i32', 42), 42, false, {
        relativeTo: scalar,
        note: 'the same span and the run: two JSON lines, one synchronous write per run',
      });
      toFile.dispose();
    } finally {
      rmSync(traceDir, { recursive: true, force: true });
    }

    const kib = Uint8Array.from({ length: 1024 }, (_, i) => i * 7);
    const echoKib = returning({ ok: true, value: { type: 'bytes', value: kib } });
    const kibRow = 'call EchoBytes, 1 KiB';
    measure(kibRow, () => echoKib.call('EchoBytes', 'bytes', kib), kib, false, { note: 'the result is a new Uint8Array', ...chart(1024) });
    const kibInto = echoKib.with({ into: new Uint8Array(kib.byteLength) });
    measure('call EchoBytes, 1 KiB, into', () => kibInto.call('EchoBytes', 'bytes', kib), kib, false, {
      relativeTo: kibRow,
      note: 'the result is copied into a caller\'s array (`with({ into })`)',
    });

    const mib = Uint8Array.from({ length: MIB }, (_, i) => (i * 31) >>> 3);
    const target = new Uint8Array(MIB).fill(1);
    const memcpy = 'memcpy 1 MiB';
    measure(memcpy, () => (target.set(mib), target), mib, true, { note: '`Uint8Array#set` into a buffer already written' });
    const staged = new Uint8Array(MIB).fill(2);
    measure('memcpy 1 MiB in and out', () => (staged.set(mib), target.set(staged), target), mib, true, {
      relativeTo: memcpy,
      note: 'two copies through a third buffer: the floor of the rows below',
    });
    const echoMib = returning({ ok: true, value: { type: 'bytes', value: mib } });
    measure('call EchoBytes, 1 MiB', () => echoMib.call('EchoBytes', 'bytes', mib), mib, true, {
      relativeTo: memcpy,
      target: 3,
      note: 'copies 1 MiB in and 1 MiB out; the result is a new Uint8Array',
      ...chart(MIB),
    });
    const mibInto = echoMib.with({ into: new Uint8Array(MIB).fill(1) });
    measure('call EchoBytes, 1 MiB, into', () => mibInto.call('EchoBytes', 'bytes', mib), mib, true, {
      relativeTo: memcpy,
      target: 3,
      note: 'the result is copied into a caller\'s array, already written (`with({ into })`)',
    });

    const before = hostCalls;
    const host = make({
      hostCall: { functionName: 'HostAdd', args: [{ type: 'i32', value: 1 }, { type: 'i32', value: 2 }], returnType: 'i32' },
      result: { ok: true, value: { type: 'i32', value: 3 } },
    });
    measure('call CallHostAdd', () => host.call('CallHostAdd', 'i32', 1, 2), 3, false, { relativeTo: scalar, note: 'one host call (HostAdd) inside the call' });
    const calls = (iterations.small.warmup + iterations.small.timed) * iterations.batch;
    if (hostCalls - before !== calls) throw new Error(`call CallHostAdd: HostAdd ran ${hostCalls - before} times in ${calls} calls`);

    const standIn = standInBackend({ functions: FUNCTIONS, result: { ok: true, value: { type: 'void', value: undefined } } });
    record.add(
      'create + evolve + dispose, default',
      'µs',
      summarize(timeMicros(iterations.create, () => UninitializedSandbox.create(binary, { backend: standIn }).evolve().dispose())),
      { note: 'the host side of making a sandbox as for the first of its binary (the stand-in keeps no loaded-memory template): layout, page tables and system structures, ELF load, PEB, the init run, the function table' },
    );
  } finally {
    for (const sandbox of sandboxes) sandbox.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
