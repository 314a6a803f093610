import { LogLevel } from '@hyperlight-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { GuestTracer, TRACE_CALLBACK_FAILED_WARNING, type TraceEvent, type TraceMemoryEvent, type TraceRun, type TraceSpan } from '../src/index.js';
import { FakeCore } from './support/fake-core.js';
import { batch, event, memory, runStart, spanClose, spanFields, spanOpen } from './support/trace-records.js';

/** A tracer collecting everything it delivers. */
function collecting(options: ConstructorParameters<typeof GuestTracer>[0] = {}) {
  const spans: TraceSpan[] = [];
  const events: TraceEvent[] = [];
  const memories: TraceMemoryEvent[] = [];
  const runs: TraceRun[] = [];
  const tracer = new GuestTracer({
    openTelemetry: false,
    onSpan: (s) => void spans.push(s),
    onEvent: (e) => void events.push(e),
    onMemory: (m) => void memories.push(m),
    onRun: (r) => void runs.push(r),
    ...options,
  });
  return { tracer, spans, events, memories, runs, core: new FakeCore(tracer) };
}

/** Run-relative times: guest tsc T (1 GHz) made at host time beginNs + (T - base). */
const T = 1_000_000n;

afterEach(() => vi.restoreAllMocks());

describe('TraceSession', () => {
  it('rebuilds nesting, times and the run tree', () => {
    const { spans, events, runs, core } = collecting();
    core.run({
      beginNs: 1000,
      batches: [{
        atNs: 9000,
        bytes: batch(
          runStart(T),
          spanOpen(1, 0, { tsc: T + 100n, name: 'outer', fields: [{ type: 'u64', key: 'n', value: 3n }] }),
          spanOpen(2, 1, { tsc: T + 200n, name: 'inner' }),
          event(2, { tsc: T + 300n, name: 'inside', level: 3 }),
          spanClose(2, T + 400n),
          event(0, { tsc: T + 450n, name: 'outside' }),
          spanClose(1, T + 500n),
        ),
      }],
      endNs: 10_000,
    });
    expect(spans.map((s) => s.name)).toEqual(['inner', 'outer']);
    const [inner, outer] = spans as [TraceSpan, TraceSpan];
    const run = runs[0]!;
    expect(outer.parentId).toBeUndefined();
    expect(inner.parentId).toBe(outer.id);
    expect(outer.startNs - run.startNs).toBe(100);
    expect(outer.endNs - run.startNs).toBe(500);
    expect(inner.startNs - run.startNs).toBe(200);
    expect(inner.endNs - run.startNs).toBe(400);
    expect(outer.fields).toEqual({ n: 3 });
    expect(outer.unclosed).toBe(false);
    expect(events.map((e) => [e.name, e.spanId, e.level])).toEqual([['inside', inner.id, 'warn'], ['outside', undefined, 'info']]);
    expect(run.endNs - run.startNs).toBe(9000);
    expect(run).toMatchObject({ run: 1, operation: 'call', functionName: 'Work', truncated: false, error: undefined });
    expect(run.spans.map((s) => s.name)).toEqual(['outer']);
    expect(run.spans[0]!.children.map((s) => s.name)).toEqual(['inner']);
    expect(run.spans[0]!.children[0]!.events.map((e) => e.name)).toEqual(['inside']);
    expect(run.events.map((e) => e.name)).toEqual(['outside']);
  });

  it('closes spans left open at the end of the run, innermost first, marked unclosed', () => {
    const { spans, runs, core } = collecting();
    core.run({
      batches: [{ atNs: 500, bytes: batch(runStart(T), spanOpen(1, 0, { tsc: T + 10n }), spanOpen(2, 1, { tsc: T + 20n })) }],
      endNs: 800,
      error: new Error('guest aborted'),
    });
    expect(spans.map((s) => [s.name, s.unclosed, s.endNs - runs[0]!.startNs])).toEqual([['span2', true, 800], ['span1', true, 800]]);
    expect(runs[0]!.spans[0]!.children[0]!.name).toBe('span2');
    expect(runs[0]!.error?.message).toBe('guest aborted');
  });

  it('delivers each record exactly once however the batches are split', () => {
    const { tracer, spans, core } = collecting();
    const records = [runStart(T)];
    for (let id = 1; id <= 300; id += 1) records.push(spanOpen(id, 0, { tsc: T + BigInt(id * 10) }), spanClose(id, T + BigInt(id * 10 + 5)));
    // Three drains cut at odd places: many spans open in one batch and close in the next.
    const cuts = [0, 101, 350, records.length];
    const bytes = cuts.slice(1).map((end, i) => batch(...records.slice(cuts[i], end)));
    core.run({ batches: bytes.map((b, i) => ({ atNs: 10_000 * (i + 1), bytes: b })), endNs: 40_000 });
    expect(spans).toHaveLength(300);
    expect(new Set(spans.map((s) => s.id)).size).toBe(300);
    expect(tracer.stats).toMatchObject({ records: 601, spans: 300, dropped: { malformed: 0, unknownSpan: 0 } });
    for (const b of bytes) b.fill(0xff); // the session kept nothing it could read again
    core.run({ beginNs: 50_000, batches: [], endNs: 60_000 });
    expect(spans).toHaveLength(300);
    expect(tracer.stats.records).toBe(601);
  });

  it('shows a batch handed twice as duplicates, never as extra spans', () => {
    const { tracer, spans, core } = collecting();
    const bytes = batch(runStart(T), spanOpen(1, 0, { tsc: T + 1n }), spanClose(1, T + 2n));
    core.run({ batches: [{ atNs: 100, bytes }, { atNs: 200, bytes }], endNs: 300 });
    expect(spans).toHaveLength(1);
    // The second copy: RUN_START again (malformed), the open of a used id (malformed), the close of a closed span.
    expect(tracer.stats.dropped).toMatchObject({ malformed: 2, unknownSpan: 1 });
  });

  it('counts unknown spans, reused ids, guest losses and records outside a run', () => {
    const { tracer, spans, events, core } = collecting();
    core.run({
      batches: [{
        atNs: 100, lost: 4,
        bytes: batch(
          runStart(T),
          spanClose(9, T + 1n),
          spanFields(9, T + 2n, [{ type: 'bool', key: 'x', value: true }]),
          spanOpen(3, 0, { tsc: T + 3n }),
          spanOpen(2, 0, { tsc: T + 4n }), // not above 3: not new
          spanOpen(4, 77, { tsc: T + 5n }), // parent not open: top of the run
          event(55, { tsc: T + 6n }), // span not open: outside any span
        ),
      }],
      endNs: 200,
    });
    expect(tracer.stats.dropped).toEqual({ malformed: 1, oversized: 0, unknownSpan: 2, guestLost: 4, limit: 0 });
    expect(spans.find((s) => s.name === 'span4')?.parentId).toBeUndefined();
    expect(events[0]!.spanId).toBeUndefined();
    core.session.records(batch(spanClose(1, 1n)), 0, core.at(300));
    expect(tracer.stats.dropped.malformed).toBe(2);
  });

  it('gives spans ids unique in the session although guest ids restart every run', () => {
    const { spans, core } = collecting();
    for (let run = 0; run < 3; run += 1) {
      const base = BigInt(run) * 10_000n + T;
      core.run({ beginNs: run * 10_000, batches: [{ atNs: run * 10_000 + 50, bytes: batch(runStart(base), spanOpen(1, 0, { tsc: base + 1n }), spanClose(1, base + 2n)) }], endNs: run * 10_000 + 100 });
    }
    expect(spans.map((s) => [s.id, s.run])).toEqual([[1, 1], [2, 2], [3, 3]]);
  });

  it('merges later fields into a span, up to maxFields', () => {
    const { tracer, spans, core } = collecting({ limits: { maxFields: 2 } });
    core.run({
      batches: [{
        atNs: 100,
        bytes: batch(
          runStart(T),
          spanOpen(1, 0, { tsc: T, fields: [{ type: 'u64', key: 'a', value: 1n }] }),
          spanFields(1, T + 1n, [{ type: 'u64', key: 'a', value: 2n }, { type: 'string', key: 'b', value: 'x' }, { type: 'bool', key: 'c', value: true }]),
          spanClose(1, T + 2n),
        ),
      }],
      endNs: 200,
    });
    expect(spans[0]!.fields).toEqual({ a: 2, b: 'x' });
    expect(tracer.stats.dropped.limit).toBe(1);
  });

  it('bounds open spans and the run tree, still streaming what the tree leaves out', () => {
    const { tracer, spans, runs, core } = collecting({ limits: { maxOpenSpans: 2, maxRunSpans: 3, maxRunEvents: 1 } });
    const records = [runStart(T), spanOpen(1, 0, { tsc: T }), spanOpen(2, 1, { tsc: T }), spanOpen(3, 2, { tsc: T }), spanClose(2, T), spanClose(1, T)];
    for (let id = 4; id <= 8; id += 1) records.push(spanOpen(id, 0, { tsc: T }), spanClose(id, T));
    records.push(event(0, { tsc: T }), event(0, { tsc: T }));
    core.run({ batches: [{ atNs: 100, bytes: batch(...records) }], endNs: 200 });
    // Span 3 exceeded maxOpenSpans (limit); its close is unknown. 7 spans streamed, 3 kept in the tree.
    expect(spans).toHaveLength(7);
    expect(runs[0]!.truncated).toBe(true);
    expect(runs[0]!.spans.length + runs[0]!.spans.reduce((n, s) => n + s.children.length, 0)).toBe(3);
    expect(runs[0]!.events).toHaveLength(1);
    expect(tracer.stats.dropped).toMatchObject({ limit: 1 + 4 + 1, unknownSpan: 0 });
  });

  it('hands allocations and frees to onMemory', () => {
    const { tracer, memories, core } = collecting();
    core.run({ batches: [{ atNs: 100, bytes: batch(runStart(T), memory('alloc', 0x1000n, 32n, [0xabcn], T + 1n), memory('free', 0x1000n, 32n, [], T + 2n)) }], endNs: 200 });
    expect(memories.map((m) => [m.kind, m.address, m.size, m.stack])).toEqual([['alloc', 0x1000n, 32, [0xabcn]], ['free', 0x1000n, 32, []]]);
    expect(tracer.stats).toMatchObject({ allocs: 1, frees: 1, records: 3 });
  });

  it('counts a throwing callback, warns once, and keeps delivering to the others', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const runs: TraceRun[] = [];
    const tracer = new GuestTracer({ openTelemetry: false, onSpan: () => { throw new Error('user bug'); }, onRun: (r) => void runs.push(r) });
    const core = new FakeCore(tracer);
    for (let i = 0; i < 2; i += 1) {
      const base = T + BigInt(i) * 1000n;
      expect(() => core.run({ beginNs: i * 1000, batches: [{ atNs: i * 1000 + 100, bytes: batch(runStart(base), spanOpen(1, 0, { tsc: base }), spanClose(1, base + 1n)) }], endNs: i * 1000 + 200 })).not.toThrow();
    }
    expect(tracer.stats.callbackErrors).toBe(2);
    expect(runs.map((r) => r.spans.length)).toEqual([1, 1]);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain('user bug');
    expect(warn.mock.calls[0]![1]).toMatchObject({ code: TRACE_CALLBACK_FAILED_WARNING });
  });

  it('applies configure() from the next run, returning the same settings object while nothing changes', () => {
    const tracer = new GuestTracer({ openTelemetry: false, filter: { 'my_guest::db': 'trace' } });
    const core = new FakeCore(tracer);
    const first = core.run({ batches: [], endNs: 10 });
    expect(first).toEqual({ enabled: true, level: LogLevel.Info, filter: [{ prefix: 'my_guest::db', level: LogLevel.Trace }], runtimeSpans: false, memoryProfile: false, traceparent: undefined });
    expect(core.run({ beginNs: 20, batches: [], endNs: 30 })).toBe(first);
    tracer.configure({ level: 'debug', memoryProfile: true });
    expect(core.run({ beginNs: 40, batches: [], endNs: 50 })).toMatchObject({ level: LogLevel.Debug, memoryProfile: true, filter: first.filter });
  });

  it('sends all-off settings while not enabled, whatever else is set', () => {
    const tracer = new GuestTracer({ openTelemetry: false, enabled: false, runtimeSpans: true, memoryProfile: true, level: 'trace' });
    const core = new FakeCore(tracer);
    expect(core.run({ batches: [], endNs: 10 })).toEqual({
      enabled: false, level: LogLevel.Off, filter: [], runtimeSpans: false, memoryProfile: false, traceparent: undefined,
    });
    tracer.configure({ enabled: true });
    expect(core.run({ beginNs: 20, batches: [], endNs: 30 })).toMatchObject({ enabled: true, level: LogLevel.Trace, runtimeSpans: true, memoryProfile: true });
  });

  it('sends all-off settings when nothing could be recorded: level and filter off, no memory profile', () => {
    const tracer = new GuestTracer({ openTelemetry: false, level: 'off', runtimeSpans: true });
    const core = new FakeCore(tracer);
    expect(core.run({ batches: [], endNs: 10 })).toMatchObject({ enabled: false, runtimeSpans: false });
    tracer.configure({ filter: { 'my_guest::db': 'warn' } });
    expect(core.run({ beginNs: 20, batches: [], endNs: 30 })).toMatchObject({ enabled: true, level: LogLevel.Off, runtimeSpans: true });
    tracer.configure({ filter: {}, memoryProfile: true });
    expect(core.run({ beginNs: 40, batches: [], endNs: 50 })).toMatchObject({ enabled: true, memoryProfile: true });
  });

  it('keeps per-session stats while open and totals after close', () => {
    const tracer = new GuestTracer({ openTelemetry: false });
    const a = new FakeCore(tracer);
    const b = new FakeCore(tracer);
    a.run({ batches: [{ atNs: 10, bytes: batch(runStart(T), spanOpen(1, 0, { tsc: T }), spanClose(1, T)) }], endNs: 20 });
    b.run({ batches: [{ atNs: 10, bytes: batch(runStart(T)), lost: 2 }], endNs: 20 });
    expect(tracer.stats.sessions.map((s) => [s.session.id, s.spans, s.dropped.guestLost])).toEqual([[1, 1, 0], [2, 0, 2]]);
    a.session.close();
    expect(tracer.stats.sessions.map((s) => s.session.id)).toEqual([2]);
    expect(tracer.stats).toMatchObject({ spans: 1, runs: 2, records: 4, dropped: { guestLost: 2 } });
    b.session.close();
    b.session.close();
    expect(tracer.stats).toMatchObject({ spans: 1, runs: 2, sessions: [] });
  });

  it('ends a run still open when the session closes', () => {
    const { spans, runs, core } = collecting();
    core.session.beginRun({ operation: 'init', functionName: undefined, hostTimeNs: core.at(0) });
    core.session.records(batch(runStart(T, 'init'), spanOpen(1, 0, { tsc: T })), 0, core.at(10));
    core.session.close();
    expect(spans.map((s) => s.unclosed)).toEqual([true]);
    expect(runs.map((r) => r.operation)).toEqual(['init']);
  });
});
