import { describe, expect, it } from 'vitest';

import { DEFAULT_TRACE_LIMITS } from '../../src/limits.js';
import type { RunEnd } from '../../src/sinks/trace-sink.js';
import { SpanTree } from '../../src/spans/span-tree.js';
import type { TraceEvent, TraceRun, TraceSessionDetails, TraceSpan } from '../../src/trace-data.js';
import { TraceCounters } from '../../src/trace-stats.js';

const session: TraceSessionDetails = { id: 1, guestDigest: '', startTimeUnixNano: 0n, file: undefined };
const RUN: RunEnd = { run: 1, operation: 'call', functionName: 'f', startNs: 0, endNs: 100, error: undefined };

function span(id: number, parentId?: number): TraceSpan {
  return { session, run: 1, id, parentId, name: `s${id}`, target: '', level: 'info', startNs: 0, endNs: 1, fields: {}, unclosed: false };
}
function event(spanId?: number): TraceEvent {
  return { session, run: 1, spanId, name: `e${spanId ?? 0}`, target: '', level: 'info', timeNs: 0, fields: {} };
}

function tree(limits = DEFAULT_TRACE_LIMITS) {
  const runs: TraceRun[] = [];
  const counters = new TraceCounters();
  return { sink: new SpanTree(session, limits, counters, (r) => void runs.push(r)), runs, counters };
}

describe('SpanTree', () => {
  it('nests children under parents that end after them', () => {
    const { sink, runs } = tree();
    sink.event(event(3));
    sink.spanClosed(span(3, 2));
    sink.spanClosed(span(4, 2));
    sink.spanClosed(span(2, 1));
    sink.spanClosed(span(1));
    sink.spanClosed(span(5));
    sink.endRun(RUN);
    const [one, five] = runs[0]!.spans;
    expect([one!.id, five!.id]).toEqual([1, 5]);
    expect(one!.children[0]!.children.map((s) => s.id)).toEqual([3, 4]);
    expect(one!.children[0]!.children[0]!.events.map((e) => e.name)).toEqual(['e3']);
  });

  it('moves the children and events of a span it leaves out one level up', () => {
    const { sink, runs, counters } = tree({ ...DEFAULT_TRACE_LIMITS, maxRunSpans: 2 });
    sink.spanClosed(span(3, 2));
    sink.event(event(2));
    sink.spanClosed(span(4, 1));
    sink.spanClosed(span(2, 1)); // the third span: left out; 3 and its event go to 1
    sink.spanClosed(span(1)); // the fourth: left out; 3 and 4 go to the top
    sink.endRun(RUN);
    expect(runs[0]!.spans.map((s) => s.id).sort()).toEqual([3, 4]);
    expect(runs[0]!.events.map((e) => e.name)).toEqual(['e2']);
    expect(runs[0]!.truncated).toBe(true);
    expect(counters.dropped.limit).toBe(2);
  });

  it('starts each run afresh', () => {
    const { sink, runs } = tree({ ...DEFAULT_TRACE_LIMITS, maxRunSpans: 1 });
    sink.spanClosed(span(1));
    sink.spanClosed(span(2));
    sink.endRun(RUN);
    sink.spanClosed(span(3));
    sink.endRun({ ...RUN, run: 2 });
    expect(runs.map((r) => [r.spans.map((s) => s.id), r.truncated])).toEqual([[[1], true], [[3], false]]);
  });
});
