import type { Writable } from 'node:stream';

import { formatBytes } from './format-units.js';

/** Least time between two progress updates. */
const UPDATE_INTERVAL_MS = 200;

/**
 * Shows how far a long read has come on stderr: one line rewritten in place
 * on a terminal, or a line per tenth of the file otherwise (with `--progress`
 * on a pipe). Silent when not enabled.
 */
export class Progress {
  #lastUpdateMs = 0;
  #lastTenth = -1;
  #shown = false;

  /**
   * @param stream - where to write (stderr)
   * @param enabled - whether to show anything
   * @param label - what is being done, e.g. `reading trace.jsonl`
   */
  constructor(
    private readonly stream: Writable & { readonly isTTY?: boolean },
    private readonly enabled: boolean,
    private readonly label: string,
  ) {}

  /** Reports `done` of `total` bytes. */
  update(done: number, total: number): void {
    if (!this.enabled || total === 0) return;
    const percent = Math.floor((done / total) * 100);
    const text = `${this.label}: ${percent}% (${formatBytes(done)} of ${formatBytes(total)})`;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (now - this.#lastUpdateMs < UPDATE_INTERVAL_MS && done < total) return;
      this.#lastUpdateMs = now;
      this.stream.write(`\r${text}\x1b[K`);
      this.#shown = true;
    } else {
      const tenth = Math.floor(percent / 10);
      if (tenth === this.#lastTenth) return;
      this.#lastTenth = tenth;
      this.stream.write(`${text}\n`);
    }
  }

  /** Clears the in-place line, if any. */
  finish(): void {
    if (this.#shown) this.stream.write('\r\x1b[K');
    this.#shown = false;
  }
}
