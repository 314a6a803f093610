/**
 * What a tracer and each of its sessions counted: records taken, what they
 * became, and what was dropped and why.
 */
import type { TraceDropCounts } from './file/index.js';

/** Why a record (or part of one) was left out; `guestLost` counts the guest's own drops. */
export type TraceDropReason = keyof TraceDropCounts;

/** Counts of one session, or of a whole tracer. */
export interface TraceStats {
  /** Guest records accepted. */
  readonly records: number;
  /** Spans delivered (closed by the guest or, at the end of a run, by the collector). */
  readonly spans: number;
  readonly events: number;
  readonly allocs: number;
  readonly frees: number;
  /** Runs that ended. */
  readonly runs: number;
  /** Calls of user callbacks (and of the OpenTelemetry and file sinks) that threw; each is caught. */
  readonly callbackErrors: number;
  /** What was left out, by reason (docs/tracing.md, "Limits and counts"). */
  readonly dropped: TraceDropCounts;
}

/** Mutable counters behind a {@link TraceStats}. */
export class TraceCounters {
  records = 0;
  spans = 0;
  events = 0;
  allocs = 0;
  frees = 0;
  runs = 0;
  callbackErrors = 0;
  readonly dropped: { -readonly [K in TraceDropReason]: number } = { malformed: 0, oversized: 0, unknownSpan: 0, guestLost: 0, limit: 0 };

  /** Counts `count` drops for `reason`. */
  drop(reason: TraceDropReason, count = 1): void {
    this.dropped[reason] += count;
  }

  /** Adds another set of counters into this one. */
  add(other: TraceStats): void {
    this.records += other.records;
    this.spans += other.spans;
    this.events += other.events;
    this.allocs += other.allocs;
    this.frees += other.frees;
    this.runs += other.runs;
    this.callbackErrors += other.callbackErrors;
    for (const reason of Object.keys(this.dropped) as TraceDropReason[]) this.dropped[reason] += other.dropped[reason];
  }

  /** A frozen copy of the current counts. */
  snapshot(): TraceStats {
    const { records, spans, events, allocs, frees, runs, callbackErrors } = this;
    return Object.freeze({ records, spans, events, allocs, frees, runs, callbackErrors, dropped: Object.freeze({ ...this.dropped }) });
  }
}
