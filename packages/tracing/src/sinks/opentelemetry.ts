/**
 * Guest spans and events as OpenTelemetry spans. Each run gets a host span
 * ("hyperlight.guest_init" or "hyperlight.guest_call <function>") under the
 * application's active span; its W3C traceparent goes to the guest, and guest
 * spans become its descendants with the guest's times. Guest spans are only
 * built while the host span records (a no-op tracer costs one span per run).
 */
import type { Attributes, Context, HrTime, Span, SpanContext, Tracer } from '@opentelemetry/api';

import type { TraceFields } from '../records/trace-record.js';
import type { OpenSpan } from '../spans/open-spans.js';
import type { TraceEvent, TraceSessionDetails, TraceSpan } from '../trace-data.js';
import type { OpenTelemetryApi } from './load-opentelemetry.js';
import type { RunEnd, RunStart, TraceSink } from './trace-sink.js';

const NS_PER_S = 1_000_000_000n;

/** Attribute keys the collector adds beside a span's or event's own fields. */
export const OTEL_ATTRIBUTES = {
  target: 'hyperlight.target',
  level: 'hyperlight.level',
  unclosed: 'hyperlight.unclosed',
  run: 'hyperlight.run',
  operation: 'hyperlight.operation',
  function: 'hyperlight.function',
  guestDigest: 'hyperlight.guest.sha256',
} as const;

/** The sink that turns one session's runs into OpenTelemetry spans. */
export class OpenTelemetrySink implements TraceSink {
  readonly name = 'OpenTelemetry sink';
  #host: Span | undefined;
  #context: Context | undefined;
  /** OpenTelemetry spans of guest spans still open, by session span id. */
  readonly #spans = new Map<number, Span>();

  /**
   * @param api - the loaded `@opentelemetry/api`
   * @param tracer - the tracer spans are started with
   * @param session - the session (its start time converts times)
   */
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly tracer: Tracer,
    private readonly session: TraceSessionDetails,
  ) {}

  /** Starts the host span under the active context; returns its traceparent when its context is valid. */
  beginRun(run: RunStart): string | undefined {
    const { api } = this;
    const parent = api.context.active();
    const name = run.operation === 'init' ? 'hyperlight.guest_init' : `hyperlight.guest_call ${run.functionName ?? ''}`;
    const attributes: Attributes = {
      [OTEL_ATTRIBUTES.run]: run.run,
      [OTEL_ATTRIBUTES.operation]: run.operation,
      [OTEL_ATTRIBUTES.guestDigest]: this.session.guestDigest,
    };
    if (run.functionName !== undefined) attributes[OTEL_ATTRIBUTES.function] = run.functionName;
    const host = this.tracer.startSpan(name, { startTime: this.#time(run.startNs), attributes }, parent);
    this.#host = host;
    this.#context = api.trace.setSpan(parent, host);
    const context = host.spanContext();
    return api.isSpanContextValid(context) ? traceparent(context) : undefined;
  }

  /** Starts the span's OpenTelemetry span under its parent (or the host span). */
  spanOpened(span: OpenSpan): void {
    const host = this.#host;
    if (host === undefined || this.#context === undefined || !host.isRecording()) return;
    const parent = (span.parentId === undefined ? undefined : this.#spans.get(span.parentId)) ?? host;
    const attributes = withFields(span.fields, { [OTEL_ATTRIBUTES.target]: span.target, [OTEL_ATTRIBUTES.level]: span.level });
    const started = this.tracer.startSpan(span.name, { startTime: this.#time(span.startNs), attributes }, this.api.trace.setSpan(this.#context, parent));
    this.#spans.set(span.id, started);
  }

  /** Ends the span's OpenTelemetry span with every field it gathered. */
  spanClosed(span: TraceSpan): void {
    const started = this.#spans.get(span.id);
    if (started === undefined) return;
    this.#spans.delete(span.id);
    started.setAttributes(span.fields);
    if (span.unclosed) started.setAttribute(OTEL_ATTRIBUTES.unclosed, true);
    started.end(this.#time(span.endNs));
  }

  /** Adds the event to its span's OpenTelemetry span, or to the host span. */
  event(event: TraceEvent): void {
    const host = this.#host;
    if (host === undefined || !host.isRecording()) return;
    const span = (event.spanId === undefined ? undefined : this.#spans.get(event.spanId)) ?? host;
    const attributes = withFields(event.fields, { [OTEL_ATTRIBUTES.target]: event.target, [OTEL_ATTRIBUTES.level]: event.level });
    span.addEvent(event.name, attributes, this.#time(event.timeNs));
  }

  /** Ends the host span, with an error status when the run failed. */
  endRun(run: RunEnd): void {
    const host = this.#host;
    this.#host = undefined;
    this.#context = undefined;
    this.#spans.clear();
    if (host === undefined) return;
    if (run.error !== undefined) {
      host.recordException(run.error, this.#time(run.endNs));
      host.setStatus({ code: this.api.SpanStatusCode.ERROR, message: run.error.message });
    }
    host.end(this.#time(run.endNs));
  }

  /** Session nanoseconds as an OpenTelemetry time ([seconds, nanoseconds] since the Unix epoch). */
  #time(ns: number): HrTime {
    const unix = this.session.startTimeUnixNano + BigInt(ns);
    return [Number(unix / NS_PER_S), Number(unix % NS_PER_S)];
  }
}

/** A W3C traceparent: version 00, trace id, span id, flags. */
function traceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** `fields` and the collector's own attributes in one object (the collector's win a clash). */
function withFields(fields: TraceFields, own: Attributes): Attributes {
  return { ...fields, ...own };
}
