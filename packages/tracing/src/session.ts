/**
 * One sandbox's trace session: takes the record batches core drains on each
 * exit (each exactly once), validates them, times them, rebuilds spans and
 * hands everything to the sinks. Nothing a guest writes makes a method throw;
 * a sink that throws is counted and reported, and the others still run.
 *
 *   open --beginRun--> in run --records*--> in run --endRun--> between runs --close--> closed
 */
import type { GuestTraceSession, TraceRunInfo, TraceRunSettings } from '@hyperlight-ts/core';

import type { TscClock } from './clock/tsc-clock.js';
import type { TraceLimits } from './limits.js';
import { lastRecordTsc, RecordDecoder } from './records/record-decoder.js';
import type { TraceRecord } from './records/trace-record.js';
import type { RunStart, TraceSink } from './sinks/trace-sink.js';
import { OpenSpans, type OpenSpan } from './spans/open-spans.js';
import type { TraceSessionDetails, TraceSpan } from './trace-data.js';
import type { TraceCounters, TraceDropReason, TraceStats } from './trace-stats.js';

/** What a session needs from the tracer that opened it. */
export interface TraceSessionHost {
  /** The settings for the next run, without its traceparent. */
  runSettings(): Omit<TraceRunSettings, 'traceparent'>;
  /** A sink threw (already counted in the session's `callbackErrors`). */
  sinkFailed(sink: string, error: unknown): void;
  /** The session closed with these final counts. */
  sessionClosed(session: TraceSession, stats: TraceStats): void;
}

/** The run in progress. */
interface RunState extends RunStart {
  /** Its RUN_START record arrived. */
  anchored: boolean;
}

/** One sandbox's session of a {@link GuestTracer}. */
export class TraceSession implements GuestTraceSession {
  readonly #decoder: RecordDecoder;
  readonly #spans: OpenSpans;
  #run: RunState | undefined;
  /** The settings returned last, and the tracer's settings they came from. */
  #settings: { readonly base: Omit<TraceRunSettings, 'traceparent'>; readonly value: TraceRunSettings } | undefined;
  #runs = 0;
  #closed = false;

  /**
   * @param details - the session as callbacks see it
   * @param clock - the sandbox's TSC clock
   * @param limits - memory bounds
   * @param sinks - where spans, events, memory records and runs go, in order
   * @param counters - the session's counts (shared with the sinks that count what they leave out)
   * @param host - the tracer
   */
  constructor(
    readonly details: TraceSessionDetails,
    private readonly clock: TscClock,
    limits: TraceLimits,
    private readonly sinks: readonly TraceSink[],
    private readonly counters: TraceCounters,
    private readonly host: TraceSessionHost,
  ) {
    this.#decoder = new RecordDecoder(limits.maxFields, counters);
    this.#spans = new OpenSpans(limits);
  }

  /** Counts so far. */
  get stats(): TraceStats {
    return this.counters.snapshot();
  }

  /** Starts a run; returns the tracer's current settings with the run's traceparent. */
  beginRun(info: TraceRunInfo): TraceRunSettings {
    if (this.#run !== undefined) this.endRun(info.hostTimeNs, undefined);
    const settings = this.host.runSettings();
    if (this.#closed) return { ...settings, traceparent: undefined };
    this.#runs += 1;
    const run: RunState = {
      run: this.#runs, operation: info.operation, functionName: info.functionName, startNs: this.clock.beginRun(info.hostTimeNs), anchored: false,
    };
    this.#run = run;
    this.#decoder.beginRun();
    this.#spans.beginRun();
    let traceparent: string | undefined;
    for (const sink of this.sinks) {
      if (sink.beginRun === undefined) continue;
      try {
        traceparent = sink.beginRun(run) ?? traceparent;
      } catch (error) {
        this.#failed(sink, error);
      }
    }
    // The same object while nothing changed, so core encodes the header once.
    let last = this.#settings;
    if (last === undefined || last.base !== settings || last.value.traceparent !== traceparent) {
      last = { base: settings, value: Object.freeze({ ...settings, traceparent }) };
      this.#settings = last;
    }
    return last.value;
  }

  /** Decodes one drained batch (called once per exit; a view of guest memory, read now and never kept). */
  records(bytes: Uint8Array, lost: number, hostTimeNs: bigint): void {
    if (lost > 0) this.counters.drop('guestLost', lost);
    if (bytes.length === 0) return;
    this.clock.drained(hostTimeNs, this.clock.wantsDrainTsc && this.#run !== undefined ? lastRecordTsc(bytes) : undefined);
    this.#decoder.decode(bytes, this.#handle);
  }

  /** Ends the run: closes the spans the guest left open (marked unclosed) and delivers the run. */
  endRun(hostTimeNs: bigint, error: Error | undefined): void {
    const run = this.#run;
    if (run === undefined) return;
    const endNs = this.clock.endRun(hostTimeNs);
    if (this.#spans.size > 0) for (const span of this.#spans.closeAll()) this.#deliverSpan(span, endNs, true);
    this.#run = undefined;
    this.counters.runs += 1;
    // Spelled out: object rest (`{ anchored, ...start }`) is a slow runtime call in V8, on every call.
    if (this.sinks.length > 0) {
      this.#emit('endRun', { run: run.run, operation: run.operation, functionName: run.functionName, startNs: run.startNs, endNs, error });
    }
  }

  /** Ends a run still in progress, closes the sinks (the trace file gets its trailer) and reports the final counts. */
  close(): void {
    if (this.#closed) return;
    if (this.#run !== undefined) this.endRun(process.hrtime.bigint(), undefined);
    this.#closed = true;
    this.#emit('close', this.counters.snapshot());
    this.host.sessionClosed(this, this.counters.snapshot());
  }

  /** Applies one validated record to the run; returns why it is dropped, if it is. */
  readonly #handle = (record: TraceRecord): TraceDropReason | undefined => {
    const run = this.#run;
    if (run === undefined) return 'malformed';
    switch (record.kind) {
      case 'runStart':
        if (run.anchored) return 'malformed';
        run.anchored = true;
        this.clock.runStarted(record.tsc);
        return undefined;
      case 'spanOpen': {
        const rejected = this.#spans.rejectOpen(record);
        if (rejected !== undefined) return rejected;
        const span = this.#spans.open(record, run.run, this.clock.toNs(record.tsc));
        this.#emit('spanOpened', span);
        return undefined;
      }
      case 'spanClose': {
        const span = this.#spans.close(record.span);
        if (span === undefined) return 'unknownSpan';
        this.#deliverSpan(span, this.clock.toNs(record.tsc), false);
        return undefined;
      }
      case 'spanFields': {
        const span = this.#spans.get(record.span);
        if (span === undefined) return 'unknownSpan';
        const leftOut = this.#spans.addFields(span, record.fields);
        if (leftOut > 0) this.counters.drop('limit', leftOut);
        return undefined;
      }
      case 'event': {
        const { name, target, level, fields } = record;
        this.counters.events += 1;
        this.#emit('event', {
          session: this.details, run: run.run, spanId: this.#spans.get(record.span)?.id, name, target, level, timeNs: this.clock.toNs(record.tsc), fields,
        });
        return undefined;
      }
      case 'alloc':
      case 'free':
        if (record.kind === 'alloc') this.counters.allocs += 1;
        else this.counters.frees += 1;
        this.#emit('memory', {
          session: this.details, run: run.run, kind: record.kind, timeNs: this.clock.toNs(record.tsc),
          address: record.address, size: Number(record.size), stack: record.stack,
        });
        return undefined;
    }
  };

  #deliverSpan(span: OpenSpan, endNs: number, unclosed: boolean): void {
    const { run, id, parentId, name, target, level, startNs, fields } = span;
    const closed: TraceSpan = { session: this.details, run, id, parentId, name, target, level, startNs, endNs, fields, unclosed };
    this.counters.spans += 1;
    this.#emit('spanClosed', closed);
  }

  /** Calls `method` of every sink that has it; a sink that throws is counted and reported, and the rest still run. */
  #emit<M extends Exclude<keyof TraceSink, 'name' | 'beginRun'>>(method: M, value: Parameters<NonNullable<TraceSink[M]>>[0]): void {
    for (const sink of this.sinks) {
      const call = sink[method] as ((value: unknown) => void) | undefined;
      if (call === undefined) continue;
      try {
        call.call(sink, value);
      } catch (error) {
        this.#failed(sink, error);
      }
    }
  }

  #failed(sink: TraceSink, error: unknown): void {
    this.counters.callbackErrors += 1;
    this.host.sinkFailed(sink.name, error);
  }
}
