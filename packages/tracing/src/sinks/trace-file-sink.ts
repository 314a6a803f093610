/**
 * Writes one session to a trace file (docs/tracing-format.md, "The trace
 * file"): a run line when each run ends, a span line when each span ends,
 * event and memory lines as they arrive, and the trailer with the session's
 * drop counts when it closes.
 */
import { TraceFileWriter, type TraceFileHeader } from '../file/index.js';
import type { TraceEvent, TraceMemoryEvent, TraceSpan } from '../trace-data.js';
import type { TraceCounters, TraceStats } from '../trace-stats.js';
import type { RunEnd, TraceSink } from './trace-sink.js';

/** The sink that writes a trace file. */
export class TraceFileSink implements TraceSink {
  readonly name = 'trace file sink';
  readonly #writer: TraceFileWriter;
  /** Lines the writer refused for its size cap: counted under `limit` here and again by the writer's trailer. */
  #refused = 0;

  /**
   * Creates (or replaces) the file and writes its header.
   * @param path - the file
   * @param header - the header without `format` and `version`
   * @param maxFileSize - the file's size cap in bytes (the writer's default when undefined)
   * @param counters - where refused lines are counted
   * @throws Error (Node system error) when the file cannot be created
   */
  constructor(
    path: string,
    header: Omit<TraceFileHeader, 'format' | 'version'>,
    maxFileSize: number | undefined,
    private readonly counters: TraceCounters,
  ) {
    this.#writer = new TraceFileWriter(path, header, maxFileSize === undefined ? undefined : { maxBytes: maxFileSize });
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
  }

  /** Writes the trailer (the writer adds its own refusals to `limit`) and closes the file. */
  close(stats: TraceStats): void {
    this.#writer.close({ ...stats.dropped, limit: stats.dropped.limit - this.#refused });
  }

  #write(line: Parameters<TraceFileWriter['write']>[0]): void {
    if (this.#writer.write(line)) return;
    this.#refused += 1;
    this.counters.drop('limit');
  }
}

/** An address as `"0x…"` hex, as trace files write them. */
export function hex(address: bigint | number): string {
  return `0x${address.toString(16)}`;
}
