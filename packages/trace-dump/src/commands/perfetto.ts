import { basename } from 'node:path';

import type { TraceLine } from '@hyperlight-ts/tracing';

import type { CliStreams, CommonOptions } from '../cli-context.js';
import { LiveHeap } from '../live-heap.js';
import { OutputSink } from '../output-sink.js';
import { TraceInput } from '../trace-input.js';

/** Options of the `perfetto` command. */
export interface PerfettoOptions extends CommonOptions {
  /** Output file; stdout when absent. */
  readonly output?: string;
}

/** The one process and thread the guest's events are placed on. */
const PID = 1;
const TID = 1;

/**
 * `perfetto`: the trace as Chrome trace-event JSON (the object form, with
 * `traceEvents`), which Perfetto and chrome://tracing open. Runs and spans are
 * complete events (`"X"`, `ts`/`dur` in microseconds), events are instant
 * events (`"i"`), live heap bytes a counter (`"C"`), and metadata (`"M"`)
 * names the process and thread. Span and event fields become `args`. Events
 * are written as lines are read, so output of any size takes bounded memory.
 * @throws TraceFileError when the trace cannot be read
 * @throws TraceDumpError when the guest binary does not match or the output cannot be written
 */
export async function perfettoCommand(path: string, options: PerfettoOptions, streams: CliStreams): Promise<void> {
  const input = await TraceInput.open(path, options, streams);
  const out = OutputSink.open(options.output, streams.stdout);
  const heap = new LiveHeap();
  const guest = input.header.guest.sha256.slice(0, 12);
  const metadata = [
    { name: 'process_name', ph: 'M', pid: PID, tid: TID, args: { name: `hyperlight guest ${guest}` } },
    { name: 'thread_name', ph: 'M', pid: PID, tid: TID, args: { name: 'guest vCPU' } },
  ];
  await out.write(`{"displayTimeUnit":"ns","otherData":${JSON.stringify({ trace: basename(path), guestSha256: input.header.guest.sha256, startTimeUnixNano: input.header.startTimeUnixNano })},\n"traceEvents":[\n`);
  await out.write(metadata.map((event) => JSON.stringify(event)).join(',\n'));
  for await (const line of input.lines()) {
    await out.write(`,\n${JSON.stringify(traceEvent(line, heap))}`);
  }
  await out.write('\n]}\n');
  await out.close();
}

/** Microseconds from nanoseconds, as the trace-event format counts time. */
function us(timeNs: number): number {
  return timeNs / 1000;
}

function traceEvent(line: TraceLine, heap: LiveHeap): object {
  switch (line.type) {
    case 'run':
      return {
        name: line.operation === 'init' ? 'init' : `call ${line.function ?? '?'}`,
        cat: 'run',
        ph: 'X',
        ts: us(line.start),
        dur: us(line.end - line.start),
        pid: PID,
        tid: TID,
        args: line.error === null ? { run: line.run } : { run: line.run, error: line.error },
      };
    case 'span':
      return {
        name: line.name,
        cat: line.unclosed ? `${line.target},unclosed` : line.target,
        ph: 'X',
        ts: us(line.start),
        dur: us(line.end - line.start),
        pid: PID,
        tid: TID,
        args: line.fields,
      };
    case 'event':
      return { name: line.name, cat: line.target, ph: 'i', s: 't', ts: us(line.time), pid: PID, tid: TID, args: line.fields };
    default:
      return { name: 'live heap bytes', ph: 'C', ts: us(line.time), pid: PID, args: { bytes: heap.apply(line) } };
  }
}
