/**
 * The trace file's types and constants: UTF-8 JSON Lines with a header line,
 * one body line per finished record, and a trailer (docs/tracing-format.md,
 * "The trace file"). Times are integer nanoseconds since the header's
 * `startTimeUnixNano`; addresses are `"0x…"` hex guest virtual addresses.
 */

/** The header's `format`: what makes a file a hyperlight trace. */
export const TRACE_FILE_FORMAT = 'hyperlight-trace';

/** The header's `version` this package writes and the only one it reads. */
export const TRACE_FILE_VERSION = 1;

/** Default size cap of a trace file in bytes (256 MiB); see `TraceFileWriter`. */
export const DEFAULT_MAX_TRACE_FILE_SIZE = 256 * 1024 * 1024;

/**
 * Longest line in bytes a reader accepts (1 MiB). The largest line the
 * collector writes is a span or event from a 4 KiB record, a few KiB even
 * with every character escaped; the cap keeps a file without newlines from
 * being read into one huge string.
 */
export const MAX_TRACE_LINE_SIZE = 1024 * 1024;

/** Level names of spans and events, least severe first (the `LogLevel` order). */
export type TraceLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical';

/** Every {@link TraceLevelName}, least severe first. */
export const TRACE_LEVEL_NAMES: readonly TraceLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical'];

/** A span's or event's field value; i64/u64 values beyond 2^53 are decimal strings. */
export type TraceFieldValue = string | number | boolean;

/** Line 1 of a trace file: what was traced and how its clock was converted. */
export interface TraceFileHeader {
  readonly format: typeof TRACE_FILE_FORMAT;
  readonly version: number;
  /** The guest binary (hex SHA-256) and where it was loaded (`imageBase`) versus linked (`linkBase`), as `"0x…"` hex. */
  readonly guest: { readonly sha256: string; readonly imageBase: string; readonly linkBase: string };
  /** The guest TSC's frequency, whether the hypervisor reported it or the collector estimated it, and whether the TSC is invariant (null: unknown). */
  readonly clock: { readonly tscFrequencyHz: number; readonly source: 'hypervisor' | 'estimated'; readonly invariantTsc: boolean | null };
  /** Wall-clock time of time 0 in nanoseconds since the Unix epoch, as a decimal string. */
  readonly startTimeUnixNano: string;
  /** The writer, e.g. `@hyperlight-ts/tracing 0.1.0`. */
  readonly createdBy: string;
}

/** One run of the guest (its initialisation or one call), written when it ends. */
export interface RunLine {
  readonly type: 'run';
  /** Run number, from 1. */
  readonly run: number;
  readonly operation: 'init' | 'call';
  /** The guest function called; null for `init`. */
  readonly function: string | null;
  readonly start: number;
  readonly end: number;
  /** The error the run ended with; null when it succeeded. */
  readonly error: string | null;
}

/** One span, written when it ends (so children come before their parents). */
export interface SpanLine {
  readonly type: 'span';
  readonly run: number;
  /** Unique in the file. */
  readonly id: number;
  /** The enclosing span's id; null for a root span. */
  readonly parent: number | null;
  readonly name: string;
  readonly target: string;
  readonly level: TraceLevelName;
  readonly start: number;
  readonly end: number;
  readonly fields: Readonly<Record<string, TraceFieldValue>>;
  /** True when the host closed the span because the guest left it open at the end of its run. */
  readonly unclosed?: boolean;
}

/** One event (a point in time, inside a span or not). */
export interface EventLine {
  readonly type: 'event';
  readonly run: number;
  /** The innermost open span's id; null outside any span. */
  readonly span: number | null;
  /** The event's message. */
  readonly name: string;
  readonly target: string;
  readonly level: TraceLevelName;
  readonly time: number;
  readonly fields: Readonly<Record<string, TraceFieldValue>>;
}

/** One heap allocation or free, with the guest's stack when it happened. */
export interface MemoryLine {
  readonly type: 'alloc' | 'free';
  readonly run: number;
  readonly time: number;
  /** The block's guest virtual address, `"0x…"`. */
  readonly address: string;
  /** The block's size in bytes. */
  readonly size: number;
  /** Return addresses, innermost first, `"0x…"`. */
  readonly stack: readonly string[];
}

/** Any body line of a trace file. */
export type TraceLine = RunLine | SpanLine | EventLine | MemoryLine;

/** Records the collector could not put in the file, by reason. */
export interface TraceDropCounts {
  /** Guest records that failed validation. */
  readonly malformed: number;
  /** Guest records over the size limits. */
  readonly oversized: number;
  /** Records naming a span that was not open. */
  readonly unknownSpan: number;
  /** Records the guest itself dropped (the trace area's `lost`). */
  readonly guestLost: number;
  /** Lines refused by a size or count limit of the collector or the file. */
  readonly limit: number;
}

/** The last line of a complete trace file. */
export interface TraceFileTrailer {
  readonly type: 'end';
  /** Body lines in the file. */
  readonly records: number;
  readonly dropped: TraceDropCounts;
}

/** A whole trace file, as {@link readTraceFile} returns it. */
export interface TraceFile {
  readonly header: TraceFileHeader;
  readonly lines: readonly TraceLine[];
  readonly trailer: TraceFileTrailer;
}
