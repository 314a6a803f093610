import type { SpanLine } from '@hyperlight-ts/tracing';

import type { CliStreams, CommonOptions } from '../cli-context.js';
import { formatBytes, formatDurationNs } from '../format-units.js';
import { LiveHeap } from '../live-heap.js';
import { OutputSink } from '../output-sink.js';
import { printable } from '../printable-text.js';
import { SpanForest } from '../span-forest.js';
import { renderTable } from '../text-table.js';
import { TraceInput } from '../trace-input.js';

/** Options of the `summary` command. */
export interface SummaryOptions extends CommonOptions {
  /** Rows in each "top" table. */
  readonly top: number;
}

/** Widest name or target shown in a table, in characters. */
const NAME_WIDTH = 60;

interface SpanStats {
  readonly name: string;
  readonly target: string;
  count: number;
  totalNs: number;
  selfNs: number;
}

/**
 * `summary`: one pass over the trace, printing counts (runs, spans, events,
 * allocations), the trailer's drop counts, the trace's duration, and the top
 * spans by total and by self time and the top events by count.
 * @throws TraceFileError when the trace cannot be read
 * @throws TraceDumpError when the guest binary does not match
 */
export async function summaryCommand(path: string, options: SummaryOptions, streams: CliStreams): Promise<void> {
  const input = await TraceInput.open(path, options, streams);
  const runs = { count: 0, init: 0, call: 0, failed: 0, timeNs: 0 };
  let spans = 0;
  let unclosed = 0;
  let events = 0;
  let firstNs = Infinity;
  let lastNs = -Infinity;
  const spanStats = new Map<string, SpanStats>();
  const eventCounts = new Map<string, { name: string; target: string; count: number }>();
  const heap = new LiveHeap();
  const forest = new SpanForest(false, () => {});
  let forestRun = 0;
  const seeTime = (startNs: number, endNs = startNs) => {
    firstNs = Math.min(firstNs, startNs);
    lastNs = Math.max(lastNs, endNs);
  };
  const addSpan = (span: SpanLine) => {
    spans++;
    if (span.unclosed) unclosed++;
    const node = forest.addSpan(span);
    const key = `${span.target}\0${span.name}`;
    const stats = spanStats.get(key) ?? { name: span.name, target: span.target, count: 0, totalNs: 0, selfNs: 0 };
    stats.count++;
    stats.totalNs += span.end - span.start;
    stats.selfNs += node.selfNs;
    spanStats.set(key, stats);
  };
  for await (const line of input.lines()) {
    if (line.run !== forestRun) {
      forest.finish();
      forestRun = line.run;
    }
    switch (line.type) {
      case 'run':
        runs.count++;
        runs[line.operation]++;
        if (line.error !== null) runs.failed++;
        runs.timeNs += line.end - line.start;
        seeTime(line.start, line.end);
        break;
      case 'span':
        addSpan(line);
        seeTime(line.start, line.end);
        break;
      case 'event': {
        events++;
        const key = `${line.target}\0${line.name}`;
        const counted = eventCounts.get(key) ?? { name: line.name, target: line.target, count: 0 };
        counted.count++;
        eventCounts.set(key, counted);
        seeTime(line.time);
        break;
      }
      default:
        heap.apply(line);
        seeTime(line.time);
    }
  }
  const { header, trailer } = input;
  const dropped = trailer.dropped;
  const out = OutputSink.open(undefined, streams.stdout);
  const clock = header.clock;
  const invariant = clock.invariantTsc === null ? 'TSC invariance unknown' : clock.invariantTsc ? 'invariant TSC' : 'TSC not invariant';
  const started = new Date(Number(BigInt(header.startTimeUnixNano) / 1_000_000n)).toISOString();
  const durationNs = lastNs >= firstNs ? lastNs - firstNs : 0;
  const top = <T>(items: Iterable<T>, by: (item: T) => number) => [...items].sort((a, b) => by(b) - by(a)).slice(0, options.top);
  const spanRow = (s: SpanStats) => [printable(s.name, NAME_WIDTH), printable(s.target, NAME_WIDTH), String(s.count), formatDurationNs(s.totalNs), formatDurationNs(s.selfNs), formatDurationNs(Math.round(s.totalNs / s.count))];
  const spanHeader = ['span', 'target', 'count', 'total', 'self', 'mean'];
  const text = [
    `trace        ${path}`,
    `guest        sha256 ${header.guest.sha256}, image base ${header.guest.imageBase}, link base ${header.guest.linkBase}`,
    `clock        ${clock.tscFrequencyHz} Hz (${clock.source}, ${invariant})`,
    `recorded     ${started} by ${printable(header.createdBy)}`,
    `duration     ${formatDurationNs(durationNs)} from first to last record, ${formatDurationNs(runs.timeNs)} in runs`,
    '',
    `runs         ${runs.count} (${runs.init} init, ${runs.call} call, ${runs.failed} failed)`,
    `spans        ${spans} (${unclosed} unclosed)`,
    `events       ${events}`,
    `allocations  ${heap.allocations} (${heap.allocatedBytes} bytes), ${heap.frees} frees (${heap.freedBytes} bytes` +
      `${heap.unmatchedFrees > 0 ? `, ${heap.unmatchedFrees} of blocks allocated before the trace` : ''})`,
    `heap         peak live ${heap.peakLiveBytes} bytes (${formatBytes(heap.peakLiveBytes)}), ` +
      `leaked at end ${heap.liveBytes} bytes in ${heap.liveBlocks} blocks`,
    `dropped      malformed ${dropped.malformed}, oversized ${dropped.oversized}, unknown span ${dropped.unknownSpan}, ` +
      `guest lost ${dropped.guestLost}, limit ${dropped.limit}`,
  ].join('\n');
  await out.write(`${text}\n`);
  if (spanStats.size > 0) {
    await out.write(`\ntop spans by total time\n${renderTable(spanHeader, top(spanStats.values(), (s) => s.totalNs).map(spanRow), [2, 3, 4, 5])}`);
    await out.write(`\ntop spans by self time\n${renderTable(spanHeader, top(spanStats.values(), (s) => s.selfNs).map(spanRow), [2, 3, 4, 5])}`);
  }
  if (eventCounts.size > 0) {
    const rows = top(eventCounts.values(), (e) => e.count).map((e) => [printable(e.name, NAME_WIDTH), printable(e.target, NAME_WIDTH), String(e.count)]);
    await out.write(`\ntop events by count\n${renderTable(['event', 'target', 'count'], rows, [2])}`);
  }
  await out.close();
}
