// The `tracing` option against a scripted guest (no hypervisor): the session's
// life around sandboxes and runs, the trace area's header before each run, and
// records drained on every exit.
import { describe, expect, it } from 'vitest';
import { Abi, Ports } from '../../src/abi/generated.js';
import type { VmExit } from '../../src/backend/backend.js';
import {
  ConfigurationError, GuestAbortedError, GuestCancelledError, GuestFunctionError, GuestTimeoutError, HostCallbackError, SandboxStateError,
  SnapshotMismatchError,
} from '../../src/errors.js';
import { encodeFunctionCall, encodeFunctionCallResult, LogLevel } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import type { GuestTraceSession, GuestTracing, TraceRunSettings, TraceSessionInfo } from '../../src/sandbox/guest-tracing.js';
import { hostFunction } from '../../src/sandbox/host-functions.js';
import { MultiUseSandbox } from '../../src/sandbox/multi-use-sandbox.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import {
  placeholderBinary, SCRIPTED_TSC_FREQUENCY_HZ, scriptedBackend, type ScriptedGuestContext,
} from '../support/scripted-backend.js';
import { rejection, thrown } from '../support/thrown.js';

const SETTINGS: TraceRunSettings = Object.freeze({
  enabled: true,
  level: LogLevel.Debug,
  filter: Object.freeze([{ prefix: 'app', level: LogLevel.Trace }]),
  runtimeSpans: false,
  memoryProfile: true,
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
});

/** What the scripted guest observed. */
interface Observed {
  /** The trace header (its first 128 bytes) at every entry. */
  headers: Uint8Array[];
  /** `used` and `lost` each time the guest was resumed after an exit. */
  resumed: [number, number][];
}

/** A trace record stand-in: core hands over bytes without decoding them. */
const record = (n: number) => new Uint8Array(8).fill(n);

function readU32(area: Uint8Array, offset: number): number {
  return new DataView(area.buffer, area.byteOffset + offset, 4).getUint32(0, true);
}

/**
 * Functions (all `() -> i32`): `Exits` appends a record before each of a host
 * call (host function `Host`), a print, a trace flush, a log flush and the halt; `Fail` returns an
 * error; `Abort` appends a record and aborts; `Lie` claims 4 GiB of records
 * and 2 lost; `Spin` flushes forever; `Scribble` writes the trace header
 * itself and flushes (an untraced guest misbehaving).
 */
function makeGuest(observed: Observed) {
  return function* guest(ctx: ScriptedGuestContext): Generator<VmExit, void, void> {
    const area = ctx.traceArea();
    observed.headers.push(area.slice(0, 128));
    const exit = function* (port: number): Generator<VmExit, void, void> {
      yield ctx.out(port);
      observed.resumed.push([readU32(area, Abi.TRACE_OFFSET_USED), readU32(area, Abi.TRACE_OFFSET_LOST)]);
    };
    if (ctx.op === Abi.OP_INIT) {
      ctx.appendTrace(record(0));
      return yield* ctx.init(['Exits', 'Fail', 'Abort', 'Lie', 'Spin', 'Scribble'].map((name) => ({ name, parameters: [], returnType: 'i32' as const })));
    }
    const input = ctx.peb('inputGva');
    const name = new TextDecoder().decode(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input))).match(/Exits|Fail|Abort|Lie|Spin|Scribble/)![0];
    switch (name) {
      case 'Exits':
        ctx.appendTrace(record(1));
        ctx.writeOutput(encodeFunctionCall({ functionName: 'Host', args: [], returnType: 'i32' }));
        yield* exit(Ports.CALL_HOST);
        ctx.appendTrace(record(6));
        ctx.writeOutput(new TextEncoder().encode('printed'));
        yield* exit(Ports.DEBUG_PRINT);
        ctx.appendTrace(record(2));
        ctx.appendTrace(record(3));
        yield* exit(Ports.TRACE_FLUSH);
        ctx.appendTrace(record(4));
        yield* exit(Ports.LOG_FLUSH);
        ctx.appendTrace(record(5));
        new DataView(area.buffer, area.byteOffset).setUint32(Abi.TRACE_OFFSET_LOST, 7, true);
        break;
      case 'Fail':
        ctx.writeOutput(encodeFunctionCallResult({ ok: false, code: 6, message: 'no' }));
        return yield ctx.out(Ports.HALT);
      case 'Abort':
        ctx.appendTrace(record(9));
        ctx.writeOutput(new TextEncoder().encode('bye'));
        return yield ctx.out(Ports.ABORT, 3);
      case 'Lie':
        new DataView(area.buffer, area.byteOffset).setUint32(Abi.TRACE_OFFSET_USED, 0xffff_ffff, true);
        new DataView(area.buffer, area.byteOffset).setUint32(Abi.TRACE_OFFSET_LOST, 2, true);
        break;
      case 'Spin':
        for (;;) {
          ctx.appendTrace(record(8));
          yield* exit(Ports.TRACE_FLUSH);
        }
      case 'Scribble':
        area.fill(0x5a, 0, 64);
        yield* exit(Ports.TRACE_FLUSH);
        break;
    }
    ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: 1 } }));
    yield ctx.out(Ports.HALT);
  };
}

type Event = readonly unknown[];

/** A collector that records every session call in `events`; `override` replaces methods. */
function recordingTracing(override: (events: Event[]) => Partial<GuestTraceSession> = () => ({})) {
  const events: Event[] = [];
  const infos: TraceSessionInfo[] = [];
  const times: bigint[] = [];
  const tracing: GuestTracing = {
    open(info) {
      infos.push(info);
      events.push(['open']);
      return {
        beginRun(run) {
          events.push(['begin', run.operation, run.functionName]);
          times.push(run.hostTimeNs);
          return SETTINGS;
        },
        records(bytes, lost, hostTimeNs) {
          events.push(['records', [...bytes].filter((_, i) => i % 8 === 0), lost]);
          times.push(hostTimeNs);
        },
        endRun(hostTimeNs, error) {
          events.push(['end', error?.name]);
          times.push(hostTimeNs);
        },
        close() {
          events.push(['close']);
        },
        ...override(events),
      };
    },
  };
  return { tracing, events, infos, times };
}

function setup(config: SandboxConfiguration = {}) {
  const observed: Observed = { headers: [], resumed: [] };
  const backend = scriptedBackend(makeGuest(observed));
  const binary = placeholderBinary();
  const u = UninitializedSandbox.create(binary, { print: () => undefined, ...config, backend });
  u.register('Host', { params: [], returns: 'i32' }, () => 1);
  return { u, observed, backend, binary };
}

function traced(override?: (events: Event[]) => Partial<GuestTraceSession>, config: SandboxConfiguration = {}) {
  const recording = recordingTracing(override);
  const { u, ...rest } = setup({ ...config, tracing: recording.tracing });
  return { sandbox: u.evolve(), ...recording, ...rest };
}

/** The settings part of the header a guest saw: level, flags, filter count, traceparent length. */
function settingsSeen(header: Uint8Array): number[] {
  return [...header.subarray(Abi.TRACE_OFFSET_LEVEL, Abi.TRACE_OFFSET_TRACEPARENT_LENGTH + 1)];
}

describe('trace sessions', () => {
  it('open one session per sandbox, describing the guest', () => {
    const { infos, sandbox, binary, events } = traced(undefined, { traceSize: 12 * 1024 });
    expect(infos).toEqual([{
      guestDigest: binary.digest,
      imageBase: expect.any(Number),
      linkBase: 0,
      tscFrequencyHz: SCRIPTED_TSC_FREQUENCY_HZ,
      traceAreaSize: 12 * 1024,
    }]);
    expect(infos[0]!.imageBase).toBeGreaterThan(0);
    expect(infos[0]!.imageBase % 4096).toBe(0);
    expect(events).toEqual([['open'], ['begin', 'init', undefined], ['records', [0], 0], ['end', undefined]]);
    expect(sandbox.guestFunctions.has('Exits')).toBe(true);
  });

  it('write the settings into the header before every run, with used and lost 0', () => {
    const { sandbox, observed, events, times } = traced();
    sandbox.call('Exits', 'i32');
    expect(observed.headers).toHaveLength(2);
    for (const header of observed.headers) {
      expect(settingsSeen(header)).toEqual([LogLevel.Debug, Abi.TRACE_FLAG_ENABLED | Abi.TRACE_FLAG_MEMORY, 1, 55]);
      expect([readU32(header, 0), readU32(header, 4)]).toEqual([0, 0]);
      expect(new TextDecoder().decode(header.subarray(Abi.TRACE_OFFSET_TRACEPARENT, Abi.TRACE_OFFSET_TRACEPARENT + 55))).toBe(SETTINGS.traceparent);
      expect([...header.subarray(Abi.TRACE_OFFSET_FILTER, Abi.TRACE_OFFSET_FILTER + 5)]).toEqual([LogLevel.Trace, 3, 0x61, 0x70, 0x70]);
    }
    expect(events.filter((e) => e[0] === 'begin')).toEqual([['begin', 'init', undefined], ['begin', 'call', 'Exits']]);
    expect([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(times); // host times only go forward
  });

  it('hand over every record exactly once, at the exit after it, and reset used and lost', () => {
    const { sandbox, observed, events } = traced();
    expect(sandbox.call('Exits', 'i32')).toBe(1);
    expect(events).toEqual([
      ['open'],
      ['begin', 'init', undefined], ['records', [0], 0], ['end', undefined],
      ['begin', 'call', 'Exits'],
      ['records', [1], 0], // host call
      ['records', [6], 0], // print
      ['records', [2, 3], 0], // trace flush
      ['records', [4], 0], // log flush
      ['records', [5], 7], // halt, with the guest's lost count
      ['end', undefined],
    ]);
    expect(observed.resumed).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]);
  });

  it('drain records before an abort, then end the run with its error', () => {
    const { sandbox, events } = traced();
    expect(thrown(() => sandbox.call('Abort', 'i32'))).toBeInstanceOf(GuestAbortedError);
    expect(events.slice(-3)).toEqual([['begin', 'call', 'Abort'], ['records', [9], 0], ['end', 'GuestAbortedError']]);
  });

  it('believe no used beyond the area: nothing is read and the batch counts as lost', () => {
    const { sandbox, events } = traced();
    expect(sandbox.call('Lie', 'i32')).toBe(1);
    expect(events.slice(-2)).toEqual([['records', [], 3], ['end', undefined]]);
    expect(sandbox.call('Exits', 'i32')).toBe(1); // used was reset: the next run starts clean
    expect(events.find((e) => e[0] === 'records' && (e[1] as number[])[0] === 1)).toEqual(['records', [1], 0]);
  });

  it('end the run with the error the call throws: none, a guest error, a timeout, a kill', async () => {
    const { sandbox, events } = traced();
    sandbox.call('Exits', 'i32');
    expect(thrown(() => sandbox.call('Fail', 'i32'))).toBeInstanceOf(GuestFunctionError);
    expect(await rejection(sandbox.with({ timeoutMs: 20 }).callAsync('Spin', 'i32'))).toBeInstanceOf(GuestTimeoutError);
    expect(events.filter((e) => e[0] === 'end')).toEqual([['end', undefined], ['end', undefined], ['end', 'GuestFunctionError'], ['end', 'GuestTimeoutError']]);

    const killed = traced();
    const handle = killed.sandbox.interruptHandle();
    const pending = killed.sandbox.callAsync('Spin', 'i32');
    setTimeout(() => handle.kill(), 10);
    expect(await rejection(pending)).toBeInstanceOf(GuestCancelledError);
    expect(killed.events.at(-1)).toEqual(['end', 'GuestCancelledError']);
  });

  it('trace initialisation in evolveAsync() and calls in callAsync()', async () => {
    const recording = recordingTracing();
    const { u } = setup({ tracing: recording.tracing });
    const sandbox = await u.evolveAsync();
    expect(await sandbox.callAsync('Exits', 'i32')).toBe(1);
    expect(recording.events.filter((e) => e[0] !== 'records')).toEqual([
      ['open'], ['begin', 'init', undefined], ['end', undefined], ['begin', 'call', 'Exits'], ['end', undefined],
    ]);
    expect(recording.events.filter((e) => e[0] === 'records')).toHaveLength(6);
  });

  it('close when the sandbox is disposed, once', () => {
    const { sandbox, events } = traced();
    sandbox.dispose();
    sandbox.dispose();
    expect(events.at(-1)).toEqual(['close']);
    expect(events.filter((e) => e[0] === 'close')).toHaveLength(1);
  });

  it('a dispose during a call closes once the run has ended', async () => {
    const { sandbox, events } = traced();
    const pending = sandbox.callAsync('Spin', 'i32');
    await new Promise((resolve) => setTimeout(resolve, 5));
    sandbox.dispose();
    expect(events.at(-1)).not.toEqual(['close']);
    expect(await rejection(pending)).toMatchObject({ reason: 'disposed' });
    expect(events.slice(-2)).toEqual([['end', 'GuestCancelledError'], ['close']]);
  });

  it('encode the same settings object once', () => {
    let reads = 0;
    const settings = { ...SETTINGS, get filter() { reads++; return SETTINGS.filter; } };
    const { sandbox } = traced(() => ({ beginRun: () => settings }));
    sandbox.call('Exits', 'i32');
    sandbox.call('Exits', 'i32');
    expect(reads).toBe(1);
  });
});

describe('a trace session that throws', () => {
  const boom = (): never => {
    throw new Error('collector bug');
  };

  it('in beginRun: the call fails with HostCallbackError before the guest runs; no poison', () => {
    let fail = false;
    const { sandbox, events, observed } = traced((ev) => ({
      beginRun: (run) => {
        if (fail) boom();
        ev.push(['begin', run.operation, run.functionName]);
        return SETTINGS;
      },
    }));
    fail = true;
    const error = thrown(() => sandbox.call('Exits', 'i32')) as HostCallbackError;
    expect(error).toBeInstanceOf(HostCallbackError);
    expect(error).toMatchObject({ callback: 'tracing', message: "the sandbox's tracing callback threw: beginRun() threw: collector bug" });
    expect(observed.headers).toHaveLength(1); // only initialisation entered the guest
    expect(events.at(-1)).toEqual(['end', undefined]); // no endRun for a run that never began
    expect(sandbox.poisoned).toBe(false);
    fail = false;
    expect(sandbox.call('Exits', 'i32')).toBe(1);
  });

  it('in records: the guest runs to the end, then the call fails; no poison, the area is still drained', () => {
    let fail = false;
    const { sandbox, observed, events } = traced((ev) => ({
      records: (bytes, lost) => {
        ev.push(['records', bytes.byteLength, lost]);
        if (fail) boom();
      },
    }));
    fail = true;
    const countBefore = events.length;
    const error = thrown(() => sandbox.call('Exits', 'i32'));
    expect(error).toMatchObject({ name: 'HostCallbackError', callback: 'tracing', detail: 'records() threw: collector bug' });
    expect(observed.resumed).toEqual([[0, 0], [0, 0], [0, 0], [0, 0]]);
    expect(events.slice(countBefore).filter((e) => e[0] === 'records')).toEqual([
      ['records', 8, 0], ['records', 8, 0], ['records', 16, 0], ['records', 8, 0], ['records', 8, 7],
    ]);
    expect(events.at(-1)).toEqual(['end', 'HostCallbackError']);
    expect(sandbox.poisoned).toBe(false);
    fail = false;
    expect(sandbox.call('Exits', 'i32')).toBe(1);
  });

  it('in endRun: a successful call fails with HostCallbackError; a failing one keeps its own error', () => {
    let fail = false;
    const { sandbox } = traced(() => ({ endRun: () => (fail ? boom() : undefined) }));
    fail = true;
    expect(thrown(() => sandbox.call('Exits', 'i32'))).toMatchObject({ name: 'HostCallbackError', detail: 'endRun() threw: collector bug' });
    expect(thrown(() => sandbox.call('Fail', 'i32'))).toBeInstanceOf(GuestFunctionError);
    expect(sandbox.poisoned).toBe(false);
  });

  it('during initialisation: evolve() fails with HostCallbackError and the session is closed', () => {
    const recording = recordingTracing(() => ({ records: boom }));
    const { u, backend } = setup({ tracing: recording.tracing });
    expect(thrown(() => u.evolve())).toMatchObject({ name: 'HostCallbackError', detail: 'records() threw: collector bug' });
    expect(recording.events).toEqual([['open'], ['begin', 'init', undefined], ['end', 'HostCallbackError'], ['close']]);
    expect(backend.vms[0]!.disposed).toBe(true);
  });

  it('in open: evolve() fails with HostCallbackError and releases the VM', () => {
    const { u, backend } = setup({ tracing: { open: boom } });
    expect(thrown(() => u.evolve())).toMatchObject({ name: 'HostCallbackError', detail: 'open() threw: collector bug' });
    expect(backend.vms[0]!.disposed).toBe(true);
    const { u: bad } = setup({ tracing: { open: () => ({}) as GuestTraceSession } });
    expect(thrown(() => bad.evolve())).toMatchObject({ name: 'HostCallbackError', detail: expect.stringMatching(/must return a session/) });
  });

  it('in close: dispose() releases the VM, then throws HostCallbackError', () => {
    const { sandbox, backend } = traced(() => ({ close: boom }));
    expect(thrown(() => sandbox.dispose())).toMatchObject({ name: 'HostCallbackError', detail: 'close() threw: collector bug' });
    expect(backend.vms[0]!.disposed).toBe(true);
    expect(() => sandbox.dispose()).not.toThrow();
    expect(() => sandbox.call('Exits', 'i32')).toThrow(SandboxStateError);
  });

  it('returns settings that do not fit: ConfigurationError before the guest runs; no poison', () => {
    let settings: TraceRunSettings = SETTINGS;
    const { sandbox, observed } = traced(() => ({ beginRun: () => settings }));
    settings = { ...SETTINGS, filter: [{ prefix: 'x'.repeat(300), level: LogLevel.Info }] };
    const error = thrown(() => sandbox.call('Exits', 'i32'));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ option: 'tracing', message: expect.stringMatching(/filter\[0\]\.prefix is 300 UTF-8 bytes/) });
    expect(observed.headers).toHaveLength(1);
    settings = SETTINGS;
    expect(sandbox.call('Exits', 'i32')).toBe(1);
    expect(sandbox.poisoned).toBe(false);
  });

  it('with a value that throws on every inspection: HostCallbackError all the same', () => {
    const trap = (): never => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    let fail = false;
    const { sandbox } = traced(() => ({
      records: () => {
        if (fail) throw hostile;
      },
    }));
    fail = true;
    const error = thrown(() => sandbox.call('Exits', 'i32'));
    expect(error).toBeInstanceOf(HostCallbackError);
    expect((error as HostCallbackError).cause).toBe(hostile);
    expect(sandbox.poisoned).toBe(false);
  });

  it('may not use its own sandbox from inside a session method', () => {
    let inner: unknown;
    const holder: { sandbox?: MultiUseSandbox } = {};
    const { sandbox } = traced(() => ({
      records: () => {
        if (holder.sandbox) inner = thrown(() => holder.sandbox!.call('Exits', 'i32'));
      },
    }));
    holder.sandbox = sandbox;
    sandbox.call('Exits', 'i32');
    expect(inner).toBeInstanceOf(SandboxStateError);
  });
});

describe('without a session', () => {
  it('the trace area is never touched, and TRACE_FLUSH just resumes', () => {
    const { u, observed } = setup();
    const sandbox = u.evolve();
    expect(sandbox.call('Scribble', 'i32')).toBe(1);
    // What the guest wrote is still there when it resumes: the host neither drained nor reset it.
    expect(observed.resumed).toEqual([[0x5a5a5a5a, 0x5a5a5a5a]]);
    // Nor did it write settings before the runs, or drain the record initialisation appended.
    expect(observed.headers[0]!.every((b) => b === 0)).toBe(true);
    expect(readU32(observed.headers[1]!, Abi.TRACE_OFFSET_USED)).toBe(8);
    expect(observed.headers[1]!.subarray(4).every((b) => b === 0)).toBe(true);
  });

  it('the PEB still has a trace area of traceSize, at least 4 KiB', () => {
    const { u, backend } = setup({ traceSize: 5000 });
    u.evolve();
    const vm = backend.vms[0]!;
    expect(new Uint8Array(vm.memory).byteLength).toBeGreaterThan(8192);
    expect(thrown(() => setup({ traceSize: 4095 }))).toMatchObject({ name: 'ConfigurationError', option: 'traceSize' });
  });
});

describe('snapshots of traced sandboxes', () => {
  it('carry no settings, so an untraced sandbox from one records nothing; a traced one opens its own session', () => {
    const { sandbox, infos, observed } = traced();
    sandbox.call('Exits', 'i32');
    const snapshot = sandbox.snapshot();
    const options = { print: () => undefined, hostFunctions: { Host: hostFunction({ params: [], returns: 'i32' }, () => 1) } };

    const untraced = MultiUseSandbox.fromSnapshot(snapshot, options);
    expect(untraced.call('Exits', 'i32')).toBe(1);
    expect(observed.headers.at(-1)!.every((b) => b === 0)).toBe(true);

    const recording = recordingTracing();
    const copy = MultiUseSandbox.fromSnapshot(snapshot, { ...options, tracing: recording.tracing });
    expect(recording.infos).toEqual(infos);
    expect(copy.call('Exits', 'i32')).toBe(1);
    expect(settingsSeen(observed.headers.at(-1)!)).toEqual([LogLevel.Debug, Abi.TRACE_FLAG_ENABLED | Abi.TRACE_FLAG_MEMORY, 1, 55]);
    expect(recording.events.filter((e) => e[0] !== 'records')).toEqual([['open'], ['begin', 'call', 'Exits'], ['end', undefined]]);
    expect(recording.events.filter((e) => e[0] === 'records')[0]).toEqual(['records', [1], 0]);

    // The traced sandbox itself goes on as before, and restore() needs nothing from the session.
    sandbox.restore(snapshot);
    expect(settingsSeen(observed.headers.at(-1)!)).not.toEqual([0, 0, 0, 0]);
    expect(sandbox.call('Exits', 'i32')).toBe(1);
    expect(settingsSeen(observed.headers.at(-1)!)).toEqual([LogLevel.Debug, Abi.TRACE_FLAG_ENABLED | Abi.TRACE_FLAG_MEMORY, 1, 55]);
  });

  it('record traceSize: fromSnapshot refuses another one', () => {
    const { sandbox } = traced(undefined, { traceSize: 8192 });
    const snapshot = sandbox.snapshot();
    const hostFunctions = { Host: hostFunction({ params: [], returns: 'i32' }, () => 1) };
    const print = (): void => undefined;
    const error = thrown(() => MultiUseSandbox.fromSnapshot(snapshot, { traceSize: 16384, hostFunctions, print }));
    expect(error).toBeInstanceOf(SnapshotMismatchError);
    expect((error as Error).message).toMatch(/traceSize is 16384 but the snapshot was taken with 8192/);
    expect(MultiUseSandbox.fromSnapshot(snapshot, { traceSize: 8192, hostFunctions, print }).call('Exits', 'i32')).toBe(1);
  });
});
