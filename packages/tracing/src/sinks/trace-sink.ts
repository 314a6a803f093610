/**
 * Where a session delivers what it decoded: user callbacks, the per-run
 * tree, OpenTelemetry, a trace file. A session calls every sink in turn and
 * counts (never propagates) what one throws.
 */
import type { OpenSpan } from '../spans/open-spans.js';
import type { TraceEvent, TraceMemoryEvent, TraceSpan } from '../trace-data.js';
import type { TraceStats } from '../trace-stats.js';

/** A run that has started. */
export interface RunStart {
  readonly run: number;
  readonly operation: 'init' | 'call';
  readonly functionName: string | undefined;
  readonly startNs: number;
}

/** A run that has ended. */
export interface RunEnd extends RunStart {
  readonly endNs: number;
  readonly error: Error | undefined;
}

/** A consumer of one session's spans, events, memory records and runs; every method is optional. */
export interface TraceSink {
  /** Names the sink in warnings when it throws. */
  readonly name: string;
  /** A run starts; may return the W3C traceparent of a host span around it. */
  beginRun?(run: RunStart): string | undefined;
  spanOpened?(span: OpenSpan): void;
  spanClosed?(span: TraceSpan): void;
  event?(event: TraceEvent): void;
  memory?(memory: TraceMemoryEvent): void;
  /** A run ended; every span of it has been closed before. */
  endRun?(run: RunEnd): void;
  /** The session closed; `stats` are its final counts. */
  close?(stats: TraceStats): void;
}
