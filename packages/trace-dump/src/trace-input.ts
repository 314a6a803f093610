import { basename } from 'node:path';

import { streamTraceFile, type TraceFileEntry, type TraceFileHeader, type TraceFileTrailer, type TraceLine } from '@hyperlight-ts/tracing';

import type { CliStreams, CommonOptions } from './cli-context.js';
import { Progress } from './progress.js';
import { Symbolizer } from './symbols/symbolizer.js';

/**
 * A trace file opened for one pass: its header (read and checked), the
 * symbolizer for its guest (`--guest`, hash checked), then its body lines as a
 * stream, then its trailer. Progress of the read goes to stderr when enabled.
 */
export class TraceInput {
  #trailer: TraceFileTrailer | undefined;

  private constructor(
    readonly header: TraceFileHeader,
    readonly symbolizer: Symbolizer,
    private readonly entries: AsyncGenerator<TraceFileEntry, void, undefined>,
    private readonly progress: Progress,
  ) {}

  /**
   * Opens `path`, reads its header and loads the guest's symbols.
   * @throws TraceFileError when the file is missing, not a trace or its header is bad
   * @throws TraceDumpError when the guest binary cannot be read or does not match
   */
  static async open(path: string, options: CommonOptions, streams: CliStreams): Promise<TraceInput> {
    const progress = new Progress(streams.stderr, options.progress === true || streams.stderr.isTTY === true, `reading ${basename(path)}`);
    const entries = streamTraceFile(path, { onProgress: (done, total) => progress.update(done, total) });
    try {
      const first = await entries.next();
      // streamTraceFile yields the header first or throws.
      const header = (first.value as { header: TraceFileHeader }).header;
      const symbolizer = options.guest === undefined ? Symbolizer.none() : await Symbolizer.load(options.guest, header, options);
      return new TraceInput(header, symbolizer, entries, progress);
    } catch (error) {
      progress.finish();
      await entries.return();
      throw error;
    }
  }

  /**
   * The body lines, in file order; the trailer is read after the last one.
   * @throws TraceFileError when a line is bad or the file is truncated
   */
  async *lines(): AsyncGenerator<TraceLine, void, undefined> {
    try {
      for await (const entry of this.entries) {
        if (entry.kind === 'line') yield entry.line;
        else if (entry.kind === 'trailer') this.#trailer = entry.trailer;
      }
    } finally {
      this.progress.finish();
    }
  }

  /** The trailer; only once {@link TraceInput.lines} has been read to the end. */
  get trailer(): TraceFileTrailer {
    if (!this.#trailer) throw new Error('the trailer is read after the last line');
    return this.#trailer;
  }
}
