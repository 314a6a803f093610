import { closeSync, openSync, writeSync } from 'node:fs';

import { ConfigurationError } from '@hyperlight-ts/core';

import {
  DEFAULT_MAX_TRACE_FILE_SIZE,
  TRACE_FILE_FORMAT,
  TRACE_FILE_VERSION,
  type TraceDropCounts,
  type TraceFileHeader,
  type TraceFileTrailer,
  type TraceLine,
} from './trace-file.js';

/**
 * Bytes kept free under the cap for the trailer: its fixed text is about 110
 * bytes and each of its six counts at most 16 digits.
 */
const TRAILER_RESERVE_SIZE = 256;

/** Lines are held until {@link TraceFileWriter.flush}, or until this many bytes wait (64 KiB). */
const FLUSH_SIZE = 64 * 1024;

/**
 * Writes a trace file with synchronous writes of whole lines: lines wait in a
 * buffer of at most 64 KiB until {@link TraceFileWriter.flush} (the collector
 * flushes at the end of every run), so a crash loses at most the lines of the
 * run in progress and memory stays bounded. Once a line would take the file past `maxBytes` (less room kept for the
 * trailer), it and every later line are refused and counted under the
 * trailer's `dropped.limit`. The caller's lines are trusted to have the
 * documented shape.
 *
 * The file is created (or replaced) by the constructor, which writes the
 * header; {@link TraceFileWriter.close} writes the trailer.
 * @example
 * const writer = new TraceFileWriter('guest.trace.jsonl', header);
 * writer.write({ type: 'run', run: 1, operation: 'init', function: null, start: 0, end: 1200, error: null });
 * writer.close({ malformed: 0, oversized: 0, unknownSpan: 0, guestLost: 0, limit: 0 });
 */
export class TraceFileWriter {
  #fd: number | undefined;
  #bytesWritten = 0;
  #linesWritten = 0;
  #linesRefused = 0;
  readonly #maxBytes: number;
  /** Lines accepted and not yet written, and their size in bytes. */
  #buffer: string[] = [];
  #bufferSize = 0;

  /**
   * @param path - the file to create; an existing file is replaced
   * @param header - the header without `format` and `version`, which the writer adds
   * @param options - `maxBytes`: the file's size cap in bytes (default {@link DEFAULT_MAX_TRACE_FILE_SIZE})
   * @throws ConfigurationError when `maxBytes` is not a positive safe integer or leaves no room for the header and trailer
   * @throws Error (Node system error) when the file cannot be created or written
   */
  constructor(path: string, header: Omit<TraceFileHeader, 'format' | 'version'>, options?: { readonly maxBytes?: number }) {
    this.#maxBytes = options?.maxBytes ?? DEFAULT_MAX_TRACE_FILE_SIZE;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes <= 0) {
      throw new ConfigurationError('maxBytes', `must be a positive integer, got ${String(options?.maxBytes)}`);
    }
    const full: TraceFileHeader = {
      format: TRACE_FILE_FORMAT,
      version: TRACE_FILE_VERSION,
      guest: header.guest,
      clock: header.clock,
      startTimeUnixNano: header.startTimeUnixNano,
      createdBy: header.createdBy,
    };
    const headerBytes = Buffer.from(lineText(full));
    if (headerBytes.length + TRAILER_RESERVE_SIZE > this.#maxBytes) {
      throw new ConfigurationError(
        'maxBytes',
        `${this.#maxBytes} is too small for the header and trailer (${headerBytes.length + TRAILER_RESERVE_SIZE} bytes)`,
      );
    }
    this.#fd = openSync(path, 'w');
    this.#append(headerBytes);
  }

  /** Bytes of the file so far, header (and trailer, once closed) and buffered lines included. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Body lines written so far. */
  get linesWritten(): number {
    return this.#linesWritten;
  }

  /**
   * Appends one body line.
   * @returns true when written; false when refused by the size cap (counted under `dropped.limit`) or after {@link TraceFileWriter.close}
   * @throws Error (Node system error) when the write fails (disk full, ...)
   */
  write(line: TraceLine): boolean {
    if (this.#fd === undefined) return false;
    if (this.#linesRefused > 0) {
      this.#linesRefused++;
      return false;
    }
    const text = lineText(line);
    const size = Buffer.byteLength(text);
    if (this.#bytesWritten + size + TRAILER_RESERVE_SIZE > this.#maxBytes) {
      this.#linesRefused++;
      return false;
    }
    this.#buffer.push(text);
    this.#bufferSize += size;
    this.#bytesWritten += size;
    this.#linesWritten++;
    if (this.#bufferSize >= FLUSH_SIZE) this.flush();
    return true;
  }

  /**
   * Writes the buffered lines to the file.
   * @throws Error (Node system error) when the write fails
   */
  flush(): void {
    if (this.#fd === undefined || this.#bufferSize === 0) return;
    const bytes = Buffer.from(this.#buffer.join(''));
    this.#buffer = [];
    this.#bufferSize = 0;
    this.#writeAll(bytes);
  }

  /**
   * Writes the trailer and closes the file. `records` is the number of lines
   * written; `dropped.limit` adds the lines this writer refused to the
   * caller's count. Later calls do nothing.
   * @param dropped - the collector's drop counts
   * @throws Error (Node system error) when the write or close fails
   */
  close(dropped: TraceDropCounts): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    const trailer: TraceFileTrailer = {
      type: 'end',
      records: this.#linesWritten,
      dropped: { ...dropped, limit: dropped.limit + this.#linesRefused },
    };
    try {
      this.flush();
      this.#append(Buffer.from(lineText(trailer)));
    } finally {
      this.#fd = undefined;
      closeSync(fd);
    }
  }

  /** Writes `bytes` now (the header and trailer) and counts them. */
  #append(bytes: Buffer): void {
    this.#writeAll(bytes);
    this.#bytesWritten += bytes.length;
  }

  #writeAll(bytes: Buffer): void {
    let offset = 0;
    // writeSync may write less than asked (a signal, a full pipe); finish the lines.
    while (offset < bytes.length) offset += writeSync(this.#fd as number, bytes, offset, bytes.length - offset);
  }
}

/** One JSON Lines line, newline included. */
function lineText(value: object): string {
  return `${JSON.stringify(value)}\n`;
}
