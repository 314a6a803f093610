/**
 * Guest trace records after validation (docs/tracing-format.md, "Records"):
 * one type per kind, with strings decoded and field values typed.
 */
import type { TraceFieldValue, TraceLevelName } from '../file/index.js';

/** A record's fields by key, each an own property (a later field with the same key wins). */
export type TraceFields = Record<string, TraceFieldValue>;

/** What every record carries. */
interface RecordBase {
  /** The guest's time stamp counter when the record was made. */
  readonly tsc: bigint;
}

/** `SPAN_OPEN`: span `span` starts inside `parent` (0: none). */
export interface SpanOpenRecord extends RecordBase {
  readonly kind: 'spanOpen';
  readonly span: number;
  readonly parent: number;
  readonly level: TraceLevelName;
  readonly name: string;
  readonly target: string;
  readonly fields: TraceFields;
  /** Fields the record carried beyond `limits.maxFields`, left out. */
  readonly fieldsLeftOut: number;
}

/** `SPAN_CLOSE`: span `span` ends. */
export interface SpanCloseRecord extends RecordBase {
  readonly kind: 'spanClose';
  readonly span: number;
}

/** `EVENT`: a message inside span `span` (0: none). */
export interface EventRecord extends RecordBase {
  readonly kind: 'event';
  readonly span: number;
  readonly level: TraceLevelName;
  readonly name: string;
  readonly target: string;
  readonly fields: TraceFields;
  readonly fieldsLeftOut: number;
}

/** `SPAN_FIELDS`: more fields for open span `span`. */
export interface SpanFieldsRecord extends RecordBase {
  readonly kind: 'spanFields';
  readonly span: number;
  readonly fields: TraceFields;
  readonly fieldsLeftOut: number;
}

/** `ALLOC` / `FREE`: a heap block handed out or taken back. */
export interface MemoryRecord extends RecordBase {
  readonly kind: 'alloc' | 'free';
  readonly address: bigint;
  readonly size: bigint;
  /** Return addresses, innermost first. */
  readonly stack: readonly bigint[];
}

/** `RUN_START`: the guest runtime was entered. */
export interface RunStartRecord extends RecordBase {
  readonly kind: 'runStart';
  readonly operation: 'init' | 'call';
}

/** Any validated trace record. */
export type TraceRecord = SpanOpenRecord | SpanCloseRecord | EventRecord | SpanFieldsRecord | MemoryRecord | RunStartRecord;
