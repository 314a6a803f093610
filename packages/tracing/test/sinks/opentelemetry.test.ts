import { context, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { GuestTracer, OTEL_ATTRIBUTES, type GuestTracerOptions, type TraceRun, type TraceSessionDetails } from '../../src/index.js';
import { FakeCore } from '../support/fake-core.js';
import { batch, event, runStart, spanClose, spanOpen } from '../support/trace-records.js';

const T = 5_000_000n;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

let exporter: InMemorySpanExporter;
let provider: BasicTracerProvider;

beforeEach(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
});

afterEach(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

/** A session-relative time as OpenTelemetry's [seconds, nanoseconds]. */
function hrTime(session: TraceSessionDetails, ns: number): HrTime {
  const unix = session.startTimeUnixNano + BigInt(ns);
  return [Number(unix / 1_000_000_000n), Number(unix % 1_000_000_000n)];
}

function byName(name: string): ReadableSpan {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span ${name}; have ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
  return span;
}

/** One call with nested guest spans and events, run under an application span. */
function tracedCall(options: GuestTracerOptions) {
  const runs: TraceRun[] = [];
  const tracer = new GuestTracer({ ...options, onRun: (run) => void runs.push(run) });
  const app = provider.getTracer('app').startSpan('request');
  const core = new FakeCore(tracer);
  const settings = context.with(trace.setSpan(context.active(), app), () =>
    core.run({
      functionName: 'Query',
      beginNs: 1000,
      batches: [{
        atNs: 50_000,
        bytes: batch(
          runStart(T),
          spanOpen(1, 0, { tsc: T + 1000n, name: 'query', target: 'my_guest::db', level: 1, fields: [{ type: 'string', key: 'table', value: 'users' }] }),
          spanOpen(2, 1, { tsc: T + 2000n, name: 'scan', target: 'my_guest::db' }),
          event(2, { tsc: T + 3000n, name: 'row found', target: 'my_guest::db', level: 2, fields: [{ type: 'u64', key: 'id', value: 7n }] }),
          spanClose(2, T + 4000n),
          spanClose(1, T + 5000n),
          event(0, { tsc: T + 6000n, name: 'done', level: 3 }),
        ),
      }],
      endNs: 60_000,
      error: new Error('guest aborted (code 3)'),
    }),
  );
  app.end();
  const run = runs[0]!;
  // Times relative to the run's start: the fake core began it 1000 ns after its time 0.
  const at = (ns: number) => hrTime(run.session, run.startNs - 1000 + ns);
  return { app, settings, at };
}

describe('OpenTelemetry', () => {
  it('parents guest spans under a host span under the active span, with guest times and attributes', () => {
    const { app, settings, at } = tracedCall({ openTelemetry: provider.getTracer('test') });
    const host = byName('hyperlight.guest_call Query');
    const query = byName('query');
    const scan = byName('scan');

    expect(host.parentSpanContext?.spanId).toBe(app.spanContext().spanId);
    expect(host.spanContext().traceId).toBe(app.spanContext().traceId);
    const [, traceId, spanId] = TRACEPARENT.exec(settings.traceparent ?? '') ?? [];
    expect(traceId).toBe(host.spanContext().traceId);
    expect(spanId).toBe(host.spanContext().spanId);
    expect(host.attributes).toMatchObject({ [OTEL_ATTRIBUTES.function]: 'Query', [OTEL_ATTRIBUTES.operation]: 'call', [OTEL_ATTRIBUTES.run]: 1 });

    expect(query.parentSpanContext?.spanId).toBe(host.spanContext().spanId);
    expect(scan.parentSpanContext?.spanId).toBe(query.spanContext().spanId);
    expect(query.attributes).toEqual({ table: 'users', [OTEL_ATTRIBUTES.target]: 'my_guest::db', [OTEL_ATTRIBUTES.level]: 'debug' });

    expect(host.startTime).toEqual(at(1000));
    expect(host.endTime).toEqual(at(60_000));
    expect(query.startTime).toEqual(at(2000));
    expect(query.endTime).toEqual(at(6000));
    expect(scan.startTime).toEqual(at(3000));
    expect(scan.endTime).toEqual(at(5000));

    expect(scan.events.map((e) => [e.name, e.time, e.attributes])).toEqual([
      ['row found', at(4000), { id: 7, [OTEL_ATTRIBUTES.target]: 'my_guest::db', [OTEL_ATTRIBUTES.level]: 'info' }],
    ]);
    expect(host.events.map((e) => e.name)).toEqual(['done', 'exception']);
    expect(host.status).toEqual({ code: SpanStatusCode.ERROR, message: 'guest aborted (code 3)' });
  });

  it("with 'auto', uses the registered global provider", () => {
    trace.setGlobalTracerProvider(provider);
    const { app, settings } = tracedCall({});
    expect(settings.traceparent).toMatch(TRACEPARENT);
    expect(byName('hyperlight.guest_call Query').parentSpanContext?.spanId).toBe(app.spanContext().spanId);
    expect(byName('scan').parentSpanContext?.spanId).toBe(byName('query').spanContext().spanId);
    expect(byName('hyperlight.guest_call Query').instrumentationScope.name).toBe('@hyperlight-ts/tracing');
  });

  it("with 'auto' and no provider, records nothing and sends no traceparent outside a span", () => {
    const tracer = new GuestTracer();
    const core = new FakeCore(tracer);
    const settings = core.run({ batches: [{ atNs: 10, bytes: batch(runStart(T), spanOpen(1, 0, { tsc: T }), spanClose(1, T + 1n)) }], endNs: 20 });
    expect(settings.traceparent).toBeUndefined();
    expect(tracer.stats).toMatchObject({ spans: 1, callbackErrors: 0 });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('with openTelemetry: false, starts no host span', () => {
    trace.setGlobalTracerProvider(provider);
    tracedCall({ openTelemetry: false });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['request']);
  });

  it('marks spans the collector closed as unclosed', () => {
    const tracer = new GuestTracer({ openTelemetry: provider.getTracer('test') });
    new FakeCore(tracer).run({ batches: [{ atNs: 10, bytes: batch(runStart(T, 'init'), spanOpen(1, 0, { tsc: T, name: 'init' })) }], endNs: 20, operation: 'init' });
    expect(byName('init').attributes[OTEL_ATTRIBUTES.unclosed]).toBe(true);
    expect(byName('init').parentSpanContext?.spanId).toBe(byName('hyperlight.guest_init').spanContext().spanId);
  });
});
