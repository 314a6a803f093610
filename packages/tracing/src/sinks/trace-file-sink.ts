/**
 * Writes one session to a trace file (docs/tracing-format.md, "The trace
 * file"): a run line when each run ends, a span line when each span ends,
 * event and memory lines as they arrive, and the trailer with the session's
 * drop counts when it closes. Each run's lines reach the file when the run
 * ends (synchronous writes), except while an estimated clock has no frequency
 * for the header.
 */
import type { TscClock } from '../clock/tsc-clock.js';
import { TraceFileWriter, type TraceFileHeader, type TraceLine } from '../file/index.js';
import type { TraceEvent, TraceMemoryEvent, TraceSpan } from '../trace-data.js';
import type { TraceCounters, TraceStats } from '../trace-stats.js';
import type { RunEnd, TraceSink } from './trace-sink.js';

/**
 * Lines held while the header's frequency is not known yet (an estimated
 * clock before its first estimate, i.e. only runs with nothing but their
 * RUN_START); beyond them the file is opened with {@link NOMINAL_TSC_FREQUENCY_HZ}.
 */
const MAX_PENDING_LINES = 1000;

/**
 * The header's `tscFrequencyHz` of a session that never recorded enough to
 * estimate its frequency (none of its times needed one): 1 GHz, with
 * `source: "estimated"`.
 */
export const NOMINAL_TSC_FREQUENCY_HZ = 1e9;

/** The header of a session's file, given the TSC frequency to state. */
export type TraceFileHeaderOf = (tscFrequencyHz: number) => Omit<TraceFileHeader, 'format' | 'version'>;

/**
 * The sink that writes a trace file. With a known frequency the file is
 * created at once; with an estimated one, when the estimate exists (the
 * header states the frequency and is written first).
 */
export class TraceFileSink implements TraceSink {
  readonly name = 'trace file sink';
  #writer: TraceFileWriter | undefined;
  #pending: TraceLine[] = [];
  /** Lines the writer refused for its size cap: counted under `limit` here and again by the writer's trailer. */
  #refused = 0;

  /**
   * @param path - the file (created, or replaced)
   * @param header - its header for a frequency
   * @param clock - the session's clock, whose frequency the header states
   * @param maxFileSize - the file's size cap in bytes (the writer's default when undefined)
   * @param counters - where refused lines are counted
   * @throws Error (Node system error) when the frequency is known and the file cannot be created
   */
  constructor(
    private readonly path: string,
    private readonly header: TraceFileHeaderOf,
    private readonly clock: TscClock,
    private readonly maxFileSize: number | undefined,
    private readonly counters: TraceCounters,
  ) {
    if (clock.frequencyHz !== undefined) this.#open();
  }

  /** Writes a span line. */
  spanClosed(span: TraceSpan): void {
    this.#write({
      type: 'span', run: span.run, id: span.id, parent: span.parentId ?? null, name: span.name, target: span.target,
      level: span.level, start: span.startNs, end: span.endNs, fields: span.fields, ...(span.unclosed ? { unclosed: true } : {}),
    });
  }

  /** Writes an event line. */
  event(event: TraceEvent): void {
    this.#write({
      type: 'event', run: event.run, span: event.spanId ?? null, name: event.name, target: event.target,
      level: event.level, time: event.timeNs, fields: event.fields,
    });
  }

  /** Writes an alloc or free line. */
  memory(memory: TraceMemoryEvent): void {
    this.#write({
      type: memory.kind, run: memory.run, time: memory.timeNs, address: hex(memory.address), size: memory.size, stack: memory.stack.map((frame) => hex(frame)),
    });
  }

  /** Writes a run line. */
  endRun(run: RunEnd): void {
    this.#write({
      type: 'run', run: run.run, operation: run.operation, function: run.functionName ?? null,
      start: run.startNs, end: run.endNs, error: run.error === undefined ? null : run.error.message,
    });
    this.#writer?.flush();
  }

  /** Writes the trailer (the writer adds its own refusals to `limit`) and closes the file. */
  close(stats: TraceStats): void {
    (this.#writer ?? this.#open()).close({ ...stats.dropped, limit: stats.dropped.limit - this.#refused });
  }

  #write(line: TraceLine): void {
    let writer = this.#writer;
    if (writer === undefined) {
      if (this.clock.frequencyHz === undefined && this.#pending.length < MAX_PENDING_LINES) {
        this.#pending.push(line);
        return;
      }
      writer = this.#open();
    }
    if (writer.write(line)) return;
    this.#refused += 1;
    this.counters.drop('limit');
  }

  /** Creates the file with the header, and writes the lines held until now. */
  #open(): TraceFileWriter {
    const writer = new TraceFileWriter(this.path, this.header(this.clock.frequencyHz ?? NOMINAL_TSC_FREQUENCY_HZ), this.maxFileSize === undefined ? undefined : { maxBytes: this.maxFileSize });
    this.#writer = writer;
    const pending = this.#pending;
    this.#pending = [];
    for (const line of pending) this.#write(line);
    return writer;
  }
}

/** An address as `"0x…"` hex, as trace files write them. */
export function hex(address: bigint | number): string {
  return `0x${address.toString(16)}`;
}
