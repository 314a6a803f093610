import { once } from 'node:events';
import { createWriteStream, openSync } from 'node:fs';
import type { Writable } from 'node:stream';

import { TraceDumpError } from './trace-dump-error.js';

/** Text is handed to the stream in pieces of about this many bytes. */
const CHUNK_SIZE = 64 * 1024;

/**
 * Where a command's output goes: a file (`-o`) or the process's stdout.
 * Writes are batched and wait for the stream to drain, so output of any size
 * is produced in bounded memory.
 */
export class OutputSink {
  #pending: string[] = [];
  #pendingSize = 0;
  #error: Error | undefined;

  private constructor(private readonly stream: Writable, private readonly ownsStream: boolean) {
    stream.on('error', (error) => {
      this.#error = error;
    });
  }

  /**
   * Opens the output: the file at `path`, created or replaced, or `stdout`.
   * @throws TraceDumpError when the file cannot be created
   */
  static open(path: string | undefined, stdout: Writable): OutputSink {
    if (path === undefined) return new OutputSink(stdout, false);
    try {
      return new OutputSink(createWriteStream(path, { fd: openSync(path, 'w') }), true);
    } catch (error) {
      throw new TraceDumpError(`cannot write ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Queues text; waits for the stream when a chunk's worth is queued and the stream is full.
   * @throws Error (Node system error) when the stream failed
   */
  async write(text: string): Promise<void> {
    this.#pending.push(text);
    this.#pendingSize += text.length;
    if (this.#pendingSize >= CHUNK_SIZE) await this.#flush();
  }

  /**
   * Writes what is queued and ends a file (stdout stays open).
   * @throws Error (Node system error) when the stream failed
   */
  async close(): Promise<void> {
    await this.#flush();
    if (this.ownsStream) {
      this.stream.end();
      await once(this.stream, 'finish');
    }
    if (this.#error) throw this.#error;
  }

  async #flush(): Promise<void> {
    if (this.#error) throw this.#error;
    const text = this.#pending.join('');
    this.#pending = [];
    this.#pendingSize = 0;
    if (text.length > 0 && !this.stream.write(text)) await once(this.stream, 'drain');
  }
}
