/**
 * Hands spans, events and memory records to the application's callbacks as
 * they arrive (the per-run tree for `onRun` is {@link SpanTree}).
 */
import type { TraceEvent, TraceMemoryEvent, TraceSpan } from '../trace-data.js';
import type { TraceSink } from './trace-sink.js';

/** The streaming callbacks of a tracer's options. */
export interface TraceCallbacks {
  /** Receives each span when it ends (children before their parents). */
  readonly onSpan?: (span: TraceSpan) => void;
  /** Receives each event when it arrives. */
  readonly onEvent?: (event: TraceEvent) => void;
  /** Receives each allocation and free (with `memoryProfile`). */
  readonly onMemory?: (memory: TraceMemoryEvent) => void;
}

/** The sink that calls the streaming callbacks; a callback that throws is counted by the session. */
export class CallbackSink implements TraceSink {
  readonly name = 'onSpan, onEvent or onMemory callback';

  /** @param callbacks - the callbacks to call; absent ones are skipped */
  constructor(private readonly callbacks: TraceCallbacks) {}

  /** Calls `onSpan`. */
  spanClosed(span: TraceSpan): void {
    this.callbacks.onSpan?.(span);
  }

  /** Calls `onEvent`. */
  event(event: TraceEvent): void {
    this.callbacks.onEvent?.(event);
  }

  /** Calls `onMemory`. */
  memory(memory: TraceMemoryEvent): void {
    this.callbacks.onMemory?.(memory);
  }
}
