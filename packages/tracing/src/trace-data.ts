/**
 * What the collector delivers: spans, events and memory records of one
 * sandbox's session, and whole runs as trees. Times are nanoseconds since the
 * session's `startTimeUnixNano`, already converted from the guest's TSC
 * (docs/tracing.md, "Accuracy of times").
 */
import type { TraceFieldValue, TraceLevelName } from './file/index.js';

/** The sandbox a span, event or run came from: one session of a tracer. */
export interface TraceSessionDetails {
  /** Session number within its tracer, from 1; also the `{sandbox}` of a file path. */
  readonly id: number;
  /** Hex SHA-256 of the guest binary. */
  readonly guestDigest: string;
  /** Wall-clock time of time 0, in nanoseconds since the Unix epoch. */
  readonly startTimeUnixNano: bigint;
  /** The trace file this session writes, when it writes one. */
  readonly file: string | undefined;
}

/** A guest span, delivered when it ends. */
export interface TraceSpan {
  readonly session: TraceSessionDetails;
  /** Run number within the session, from 1. */
  readonly run: number;
  /** Unique within the session (the guest's own ids restart every run). */
  readonly id: number;
  /** The enclosing span's id; undefined for a span at the top of its run. */
  readonly parentId: number | undefined;
  readonly name: string;
  readonly target: string;
  readonly level: TraceLevelName;
  readonly startNs: number;
  readonly endNs: number;
  /** Fields given when the span opened and any recorded on it later; later values of a key win. */
  readonly fields: Readonly<Record<string, TraceFieldValue>>;
  /** True when the guest left the span open and the collector closed it at the end of its run. */
  readonly unclosed: boolean;
}

/** A guest event (a message at a point in time), delivered when it arrives. */
export interface TraceEvent {
  readonly session: TraceSessionDetails;
  readonly run: number;
  /** The id of the innermost span open when it happened; undefined outside any span. */
  readonly spanId: number | undefined;
  /** The event's message. */
  readonly name: string;
  readonly target: string;
  readonly level: TraceLevelName;
  readonly timeNs: number;
  readonly fields: Readonly<Record<string, TraceFieldValue>>;
}

/** One heap allocation or free in the guest (recorded with `memoryProfile`). */
export interface TraceMemoryEvent {
  readonly session: TraceSessionDetails;
  readonly run: number;
  readonly kind: 'alloc' | 'free';
  readonly timeNs: number;
  /** The block's guest virtual address. */
  readonly address: bigint;
  /** The block's size in bytes (a guest's claim; beyond 2^53 it is rounded). */
  readonly size: number;
  /** Return addresses (guest virtual), innermost first. */
  readonly stack: readonly bigint[];
}

/** A span in a run's tree, with the spans and events inside it. */
export interface TraceSpanNode extends TraceSpan {
  /** Spans whose parent this is, in the order they ended. */
  readonly children: readonly TraceSpanNode[];
  /** Events recorded while this was the innermost open span, in order. */
  readonly events: readonly TraceEvent[];
}

/** One whole run (the guest's initialisation or one call) as a tree, delivered when it ends. */
export interface TraceRun {
  readonly session: TraceSessionDetails;
  readonly run: number;
  readonly operation: 'init' | 'call';
  /** The guest function called; undefined for `init`. */
  readonly functionName: string | undefined;
  readonly startNs: number;
  readonly endNs: number;
  /** The error the run ended with. */
  readonly error: Error | undefined;
  /** Spans at the top of the run (and spans whose parent the tree could not keep), in the order they ended. */
  readonly spans: readonly TraceSpanNode[];
  /** Events outside any span kept in the tree. */
  readonly events: readonly TraceEvent[];
  /** True when the tree left out spans or events for `limits.maxRunSpans` / `limits.maxRunEvents`. */
  readonly truncated: boolean;
}
