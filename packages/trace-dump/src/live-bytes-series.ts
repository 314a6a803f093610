/** One step of the live-heap plot: from `timeNs` on, the heap held `liveBytes` (the most within a merged step). */
export interface LiveBytesPoint {
  readonly timeNs: number;
  readonly liveBytes: number;
}

/** Most points kept; past this, neighbours are merged pairwise. */
export const MAX_SERIES_POINTS = 4096;

/** Notes are kept while the series has at most this many points (markers with tooltips). */
export const MAX_NOTED_POINTS = 500;

/**
 * Live heap bytes over time in bounded memory. Every point is kept until
 * {@link MAX_SERIES_POINTS}; then each pair of neighbours becomes one step
 * with the first's time and the larger value, so the plot keeps its peaks
 * and the series never holds more than the limit. A short series also keeps
 * a note per point (what changed), for tooltips.
 */
export class LiveBytesSeries {
  #points: LiveBytesPoint[] = [];
  #notes: string[] | undefined = [];
  #merged = false;

  /** Adds the live bytes after a change at `timeNs` (times in file order), with a note saying what changed. */
  add(timeNs: number, liveBytes: number, note: string): void {
    this.#points.push({ timeNs, liveBytes });
    this.#notes?.push(note);
    if (this.#points.length > MAX_NOTED_POINTS) this.#notes = undefined;
    if (this.#points.length >= MAX_SERIES_POINTS) {
      const merged: LiveBytesPoint[] = [];
      for (let i = 0; i < this.#points.length; i += 2) {
        const a = this.#points[i]!;
        merged.push({ timeNs: a.timeNs, liveBytes: Math.max(a.liveBytes, this.#points[i + 1]?.liveBytes ?? 0) });
      }
      this.#points = merged;
      this.#merged = true;
    }
  }

  /** The points, in time order. */
  get points(): readonly LiveBytesPoint[] {
    return this.#points;
  }

  /** One note per point while the series is short (at most {@link MAX_NOTED_POINTS}); otherwise undefined. */
  get notes(): readonly string[] | undefined {
    return this.#notes;
  }

  /** Whether points were merged (the plot shows maxima of neighbouring changes). */
  get merged(): boolean {
    return this.#merged;
  }
}
