import type { EventLine, SpanLine } from '@hyperlight-ts/tracing';

/** A span with its self time and, when the forest keeps trees, its children and events. */
export interface SpanNode {
  readonly span: SpanLine;
  /** Duration less the children's durations (never below 0). */
  readonly selfNs: number;
  /** Children by start time (empty unless trees are kept). */
  readonly children: readonly SpanNode[];
  /** Events inside this span and not in a child, by time (empty unless trees are kept). */
  readonly events: readonly EventLine[];
}

/**
 * Rebuilds span trees from a trace's lines. A span line is written when the
 * span ends, so children come before their parent: each span waits here
 * until its parent arrives, and a tree is complete when its root (no parent)
 * does. Spans whose parent never arrives (dropped or from a cut trace) become
 * roots at {@link SpanForest.finish}. Without `keepTrees` only the children's
 * total time is kept per waiting parent, which is all self time needs.
 */
export class SpanForest {
  readonly #childrenOf = new Map<number, SpanNode[]>();
  readonly #childTimeOf = new Map<number, number>();
  readonly #eventsOf = new Map<number, EventLine[]>();

  /**
   * @param keepTrees - link children and events into nodes (for output that shows trees)
   * @param onRoot - called with each complete tree, root first
   */
  constructor(private readonly keepTrees: boolean, private readonly onRoot: (root: SpanNode) => void) {}

  /** Adds a span; returns its node (self time known, its subtree complete). */
  addSpan(span: SpanLine): SpanNode {
    const durationNs = span.end - span.start;
    const node: SpanNode = {
      span,
      selfNs: Math.max(0, durationNs - (this.#childTimeOf.get(span.id) ?? 0)),
      children: (this.#childrenOf.get(span.id) ?? []).sort((a, b) => a.span.start - b.span.start),
      events: (this.#eventsOf.get(span.id) ?? []).sort((a, b) => a.time - b.time),
    };
    this.#childTimeOf.delete(span.id);
    this.#childrenOf.delete(span.id);
    this.#eventsOf.delete(span.id);
    if (span.parent === null) {
      this.onRoot(node);
    } else {
      this.#childTimeOf.set(span.parent, (this.#childTimeOf.get(span.parent) ?? 0) + durationNs);
      if (this.keepTrees) push(this.#childrenOf, span.parent, node);
    }
    return node;
  }

  /** Keeps an event until its span arrives (only with `keepTrees`; events outside spans are the caller's). */
  addEvent(event: EventLine): void {
    if (this.keepTrees && event.span !== null) push(this.#eventsOf, event.span, event);
  }

  /**
   * Ends a stretch of the trace (a run): spans still waiting for a parent
   * become roots, by start time; returns the events whose span never came.
   */
  finish(): EventLine[] {
    const orphans = [...this.#childrenOf.values()].flat().sort((a, b) => a.span.start - b.span.start);
    const events = [...this.#eventsOf.values()].flat();
    this.#childrenOf.clear();
    this.#childTimeOf.clear();
    this.#eventsOf.clear();
    for (const node of orphans) this.onRoot(node);
    return events;
  }
}

function push<T>(map: Map<number, T[]>, key: number, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
