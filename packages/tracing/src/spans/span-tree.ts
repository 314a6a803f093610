/**
 * Builds each run's span tree for the `onRun` callback. Spans arrive when
 * they end, children before parents, so a finished span waits with its
 * children and events until its parent ends and takes them. The tree keeps
 * at most `limits.maxRunSpans` spans and `limits.maxRunEvents` events per run;
 * the rest is counted under `limit` and the run is marked truncated.
 */
import type { TraceLimits } from '../limits.js';
import type { RunEnd, TraceSink } from '../sinks/trace-sink.js';
import type { TraceEvent, TraceRun, TraceSessionDetails, TraceSpan, TraceSpanNode } from '../trace-data.js';
import type { TraceCounters } from '../trace-stats.js';

/** A node under construction. */
interface MutableNode extends TraceSpan {
  readonly children: TraceSpanNode[];
  readonly events: TraceEvent[];
}

/** The sink that hands each finished run's tree to `onRun`. */
export class SpanTree implements TraceSink {
  readonly name = 'onRun callback';
  /** Finished spans and their events, by the id of the parent that will take them (0 for the run's top). */
  readonly #waiting = new Map<number, TraceSpanNode[]>();
  /** Events of spans still open, by span id. */
  readonly #events = new Map<number, TraceEvent[]>();
  #spanCount = 0;
  #eventCount = 0;
  #truncated = false;

  /**
   * @param session - the session the runs belong to
   * @param limits - the tree's bounds
   * @param counters - where what the tree leaves out is counted
   * @param onRun - receives each finished run
   */
  constructor(
    private readonly session: TraceSessionDetails,
    private readonly limits: TraceLimits,
    private readonly counters: TraceCounters,
    private readonly onRun: (run: TraceRun) => void,
  ) {}

  /** Files a finished span under its parent, with the children and events waiting for it. */
  spanClosed(span: TraceSpan): void {
    const children = this.#waiting.get(span.id) ?? [];
    const events = this.#events.get(span.id) ?? [];
    this.#waiting.delete(span.id);
    this.#events.delete(span.id);
    if (this.#spanCount >= this.limits.maxRunSpans) {
      this.#leaveOut();
      // Its children and events stay in the tree, one level up.
      this.#file(span.parentId ?? 0, children);
      if (events.length > 0) append(this.#eventsOf(span.parentId ?? 0), events);
      return;
    }
    this.#spanCount += 1;
    const node: MutableNode = { ...span, children, events };
    this.#file(span.parentId ?? 0, [node]);
  }

  /** Keeps an event with its span (or the run) until the run ends. */
  event(event: TraceEvent): void {
    if (this.#eventCount >= this.limits.maxRunEvents) return this.#leaveOut();
    this.#eventCount += 1;
    this.#eventsOf(event.spanId ?? 0).push(event);
  }

  /** Hands the run's tree to `onRun` and starts afresh. */
  endRun(run: RunEnd): void {
    // Spans whose parent ended outside the tree (or never) are shown at the top.
    const spans = this.#waiting.get(0) ?? [];
    this.#waiting.delete(0);
    for (const orphans of this.#waiting.values()) append(spans, orphans);
    const events = this.#events.get(0) ?? [];
    const tree: TraceRun = { session: this.session, ...run, spans, events, truncated: this.#truncated };
    this.#waiting.clear();
    this.#events.clear();
    this.#spanCount = 0;
    this.#eventCount = 0;
    this.#truncated = false;
    this.onRun(tree);
  }

  #file(parentId: number, nodes: TraceSpanNode[]): void {
    if (nodes.length === 0) return;
    const siblings = this.#waiting.get(parentId);
    if (siblings === undefined) this.#waiting.set(parentId, nodes);
    else append(siblings, nodes);
  }

  #eventsOf(spanId: number): TraceEvent[] {
    let events = this.#events.get(spanId);
    if (events === undefined) this.#events.set(spanId, (events = []));
    return events;
  }

  #leaveOut(): void {
    this.counters.drop('limit');
    this.#truncated = true;
  }
}

/** Appends `items` to `list` (a loop: spreading a long array into `push` can overflow the stack). */
function append<T>(list: T[], items: readonly T[]): void {
  for (const item of items) list.push(item);
}
