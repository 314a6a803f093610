/**
 * What guest tracing costs a call: the same `EchoI32` on the guest built
 * without tracing (compiled out), on the traced guest with no collector
 * (compiled in, disabled), with a collector that records nothing (enabled,
 * nothing at the level), and traced (the runtime's dispatch span); and
 * `Nested(8)` (eight spans and an event) traced against disabled.
 */
import { GuestBinary, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { GuestTracer } from '@hyperlight-ts/tracing';
import { summarize, timeMicrosInterleaved, type Iterations } from '../measure.js';
import { Recorder, type Row } from '../report.js';

/** Options for {@link tracingSuite}. */
export interface TracingSuiteOptions {
  /** Few iterations: a smoke test, not a measurement. */
  readonly quick: boolean;
  /** Which guests to run. */
  readonly guest: 'rust' | 'c';
}

function plan(quick: boolean): Iterations {
  return quick ? { warmup: 5, timed: 20 } : { warmup: 50, timed: 1000 };
}

/** Runs the suite and returns its rows and notes. */
export function tracingSuite(options: TracingSuiteOptions): { rows: Row[]; notes: string[] } {
  const record = new Recorder('tracing');
  const iterations = plan(options.quick);
  const traced = GuestBinary.fromFile(guestPath(options.guest, 'tracedguest'));
  const plain = GuestBinary.fromFile(guestPath(options.guest, 'simpleguest'));
  const make = (binary: GuestBinary, config: SandboxConfiguration = {}): MultiUseSandbox => {
    const u = UninitializedSandbox.create(binary, config);
    u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b);
    u.register('HostTraceparent', { params: ['string'], returns: 'string' }, (s) => s);
    return u.evolve();
  };
  const counted = { spans: 0 };
  const sandboxes = {
    out: make(plain),
    disabled: make(traced),
    idle: make(traced, { tracing: new GuestTracer({ level: 'off' }) }),
    traced: make(traced, { tracing: new GuestTracer({ level: 'info', runtimeSpans: true, onSpan: () => counted.spans++ }) }),
  };
  record.note(`${options.guest} guests: simpleguest (tracing compiled out) and tracedguest (compiled in), default sizes. "traced" records the runtime's dispatch span of every call and hands it to an onSpan callback.`);
  try {
    const echo = (sandbox: MultiUseSandbox) => () => {
      if (sandbox.call('EchoI32', 'i32', 42) !== 42) throw new Error('EchoI32 answered wrong');
    };
    const nested = (sandbox: MultiUseSandbox) => () => {
      if (sandbox.call('Nested', 'i32', 8) !== 8) throw new Error('Nested answered wrong');
    };
    // Interleaved, so every variant sees the same machine (under the emulator, speed drifts a lot).
    const [out, disabled, idle, tracedEcho, nestedDisabled, nestedTraced] = timeMicrosInterleaved(iterations, [
      echo(sandboxes.out), echo(sandboxes.disabled), echo(sandboxes.idle), echo(sandboxes.traced),
      nested(sandboxes.disabled), nested(sandboxes.traced),
    ]);
    if (counted.spans < 2 * iterations.timed) throw new Error(`expected spans from every traced call, got ${counted.spans}`);
    const base = 'call EchoI32, tracing compiled out';
    record.add(base, 'µs', summarize(out!));
    record.add('call EchoI32, compiled in, no collector', 'µs', summarize(disabled!), {
      relativeTo: base,
      note: 'the guest checks one byte per span site',
    });
    record.add('call EchoI32, collector at level off', 'µs', summarize(idle!), {
      relativeTo: base,
      note: 'nothing can be recorded, so the guest is told to record nothing; the host writes the run settings and checks the area on every exit',
    });
    record.add('call EchoI32, traced', 'µs', summarize(tracedEcho!), {
      relativeTo: base,
      note: 'one guest span per call (the runtime\'s guest_call), recorded, carried on the halt exit, decoded and delivered',
    });
    const nestedBase = 'call Nested(8), compiled in, no collector';
    record.add(nestedBase, 'µs', summarize(nestedDisabled!));
    record.add('call Nested(8), traced', 'µs', summarize(nestedTraced!), {
      relativeTo: nestedBase,
      note: 'nine spans and one event per call',
    });
  } finally {
    for (const sandbox of Object.values(sandboxes)) sandbox.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
