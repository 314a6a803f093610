/**
 * The spans open in one sandbox's current run, by the guest's ids, with the
 * session-wide ids the collector gives them (guest ids restart every run).
 *
 * The rules (docs/tracing-format.md, "Span ids"): an open must name a new id,
 * one higher than every id opened earlier in the run (ids count up from 1);
 * a close or more fields must name a span that is open. A span whose parent
 * is not open (its open was lost or dropped) is placed at the top of the run.
 */
import type { TraceLimits } from '../limits.js';
import { setField } from '../records/record-decoder.js';
import type { SpanOpenRecord, TraceFields } from '../records/trace-record.js';
import type { TraceSpan } from '../trace-data.js';
import type { TraceDropReason } from '../trace-stats.js';

/** A span that has started and not ended yet: a {@link TraceSpan} without its end. */
export interface OpenSpan extends Omit<TraceSpan, 'session' | 'endNs' | 'unclosed' | 'fields'> {
  /** Grows with SPAN_FIELDS records, up to `limits.maxFields` keys. */
  readonly fields: TraceFields;
}

/** One session's open spans. */
export class OpenSpans {
  readonly #byGuestId = new Map<number, OpenSpan>();
  #highestGuestId = 0;
  #nextId = 1;

  /** @param limits - `maxOpenSpans` bounds the spans held; `maxFields` the keys per span */
  constructor(private readonly limits: TraceLimits) {}

  /** Spans open now. */
  get size(): number {
    return this.#byGuestId.size;
  }

  /** A run starts: guest ids start again from 1. Spans still open must have been taken with {@link OpenSpans.closeAll}. */
  beginRun(): void {
    this.#highestGuestId = 0;
  }

  /** Why `record` cannot open a span, or undefined when it can. */
  rejectOpen(record: SpanOpenRecord): TraceDropReason | undefined {
    if (record.span <= this.#highestGuestId) return 'malformed';
    return this.#byGuestId.size >= this.limits.maxOpenSpans ? 'limit' : undefined;
  }

  /** Opens the span `record` describes (after {@link OpenSpans.rejectOpen} allowed it). */
  open(record: SpanOpenRecord, run: number, startNs: number): OpenSpan {
    this.#highestGuestId = record.span;
    const span: OpenSpan = {
      run,
      id: this.#nextId++,
      parentId: this.#byGuestId.get(record.parent)?.id,
      name: record.name,
      target: record.target,
      level: record.level,
      startNs,
      fields: record.fields,
    };
    this.#byGuestId.set(record.span, span);
    return span;
  }

  /** The open span with this guest id. */
  get(guestId: number): OpenSpan | undefined {
    return this.#byGuestId.get(guestId);
  }

  /** Takes the span with this guest id out of the open set. */
  close(guestId: number): OpenSpan | undefined {
    const span = this.#byGuestId.get(guestId);
    this.#byGuestId.delete(guestId);
    return span;
  }

  /**
   * Adds `fields` to an open span (a key it has is overwritten; new keys
   * beyond `limits.maxFields` are left out); returns how many were left out.
   */
  addFields(span: OpenSpan, fields: TraceFields): number {
    let count = Object.keys(span.fields).length;
    let leftOut = 0;
    for (const [key, value] of Object.entries(fields)) {
      if (Object.hasOwn(span.fields, key)) setField(span.fields, key, value);
      else if (count < this.limits.maxFields) {
        setField(span.fields, key, value);
        count += 1;
      } else leftOut += 1;
    }
    return leftOut;
  }

  /** Takes every open span out, innermost (latest opened) first, so children end before their parents. */
  closeAll(): OpenSpan[] {
    const spans = [...this.#byGuestId.values()].reverse();
    this.#byGuestId.clear();
    return spans;
  }
}
