import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';

import { MAX_TRACE_LINE_SIZE, type TraceFile, type TraceFileHeader, type TraceFileTrailer, type TraceLine } from './trace-file.js';
import { TraceFileError } from './trace-file-error.js';
import { checkTraceHeader, checkTraceLine, checkTraceTrailer, TraceLineShapeError } from './trace-line-checks.js';

/** Options of {@link streamTraceFile} and {@link readTraceFile}. */
export interface TraceFileReadOptions {
  /** Called as the file is read (about every 64 KiB) and once at the end. */
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** One part of a trace file, in file order: the header, each body line (1-based `lineNumber`), the trailer. */
export type TraceFileEntry =
  | { readonly kind: 'header'; readonly header: TraceFileHeader }
  | { readonly kind: 'line'; readonly line: TraceLine; readonly lineNumber: number }
  | { readonly kind: 'trailer'; readonly trailer: TraceFileTrailer };

const NEWLINE = 0x0a;

/**
 * Streams a trace file line by line, checking each line as it comes: the
 * header first, then body lines, then the trailer, which must be the last
 * line and count the body lines. Memory use is one chunk and one line,
 * whatever the file's size; a consumer that stops early closes the file.
 * @throws TraceFileError (from the iteration) with reason `missing` (cannot be
 *   opened or read), `not-a-trace` (empty, not a regular file, or line 1 is no
 *   trace header), `unsupported-version`, `truncated` (no trailer, or the last
 *   line has no newline) or `malformed` (a line of the wrong shape or over
 *   {@link MAX_TRACE_LINE_SIZE} bytes, a line after the trailer, a record count
 *   that does not match)
 * @example
 * for await (const entry of streamTraceFile('guest.trace.jsonl')) {
 *   if (entry.kind === 'line' && entry.line.type === 'span') console.log(entry.line.name);
 * }
 */
export async function* streamTraceFile(path: string, options?: TraceFileReadOptions): AsyncGenerator<TraceFileEntry, void, undefined> {
  const totalBytes = await fileSize(path);
  const stream = createReadStream(path, { highWaterMark: 64 * 1024 });
  let bytesSinceNewline = 0;
  let linesSeen = 0;
  stream.on('data', (chunk) => {
    const bytes = chunk as Buffer;
    const newline = bytes.lastIndexOf(NEWLINE);
    bytesSinceNewline = newline < 0 ? bytesSinceNewline + bytes.length : bytes.length - newline - 1;
    if (bytesSinceNewline > MAX_TRACE_LINE_SIZE) {
      stream.destroy(new TraceFileError(path, 'malformed', `a line is longer than ${MAX_TRACE_LINE_SIZE} bytes`, linesSeen + 1));
    }
    options?.onProgress?.(stream.bytesRead, totalBytes);
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let header: TraceFileHeader | undefined;
  let trailer: TraceFileTrailer | undefined;
  // Each line is checked when the next one arrives, so the last one is known to be last.
  let pending: string | undefined;
  const check = (text: string, lineNumber: number): TraceFileEntry => {
    try {
      if (trailer) throw new TraceLineShapeError('malformed', 'a line follows the trailer');
      if (text.length === 0) throw new TraceLineShapeError(header ? 'malformed' : 'not-a-trace', 'the line is empty');
      const value = parseJson(text, header === undefined);
      if (!header) {
        header = checkTraceHeader(value);
        return { kind: 'header', header };
      }
      const line = checkTraceLine(value);
      if (line) return { kind: 'line', line, lineNumber };
      trailer = checkTraceTrailer(value as Record<string, unknown>);
      if (trailer.records !== lineNumber - 2) {
        throw new TraceLineShapeError('malformed', `the trailer counts ${trailer.records} records but the file has ${lineNumber - 2}`);
      }
      return { kind: 'trailer', trailer };
    } catch (error) {
      if (error instanceof TraceLineShapeError) throw new TraceFileError(path, error.reason, error.detail, lineNumber);
      throw error;
    }
  };
  try {
    for await (const text of lines) {
      if (pending !== undefined) yield check(pending, linesSeen);
      pending = text;
      linesSeen++;
    }
    if (pending === undefined) throw new TraceFileError(path, 'not-a-trace', 'the file is empty');
    if (bytesSinceNewline > 0) {
      // A first line that is no header is not a trace, cut short or not.
      if (!header) check(pending, linesSeen);
      throw new TraceFileError(path, 'truncated', 'the last line is incomplete (no newline at its end); was the writer stopped?', linesSeen);
    }
    yield check(pending, linesSeen);
    if (!trailer) throw new TraceFileError(path, 'truncated', 'the file ends without a trailer; was the writer stopped?', linesSeen);
    options?.onProgress?.(totalBytes, totalBytes);
  } catch (error) {
    if (error instanceof TraceFileError) throw error;
    throw new TraceFileError(path, 'missing', `cannot be read: ${(error as Error).message}`, undefined, { cause: error });
  } finally {
    lines.close();
    stream.destroy();
  }
}

/**
 * Reads and checks a whole trace file into memory. Prefer
 * {@link streamTraceFile} for files that may be large.
 * @throws TraceFileError as {@link streamTraceFile} does
 * @example
 * const { header, lines, trailer } = await readTraceFile('guest.trace.jsonl');
 */
export async function readTraceFile(path: string, options?: TraceFileReadOptions): Promise<TraceFile> {
  let header: TraceFileHeader | undefined;
  const lines: TraceLine[] = [];
  let trailer: TraceFileTrailer | undefined;
  for await (const entry of streamTraceFile(path, options)) {
    if (entry.kind === 'header') header = entry.header;
    else if (entry.kind === 'line') lines.push(entry.line);
    else trailer = entry.trailer;
  }
  // streamTraceFile yields a header first and a trailer last, or throws.
  return { header: header as TraceFileHeader, lines, trailer: trailer as TraceFileTrailer };
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new TraceFileError(path, 'not-a-trace', 'is not a regular file');
    return info.size;
  } catch (error) {
    if (error instanceof TraceFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : `cannot be opened: ${(error as Error).message}`;
    throw new TraceFileError(path, 'missing', detail, undefined, { cause: error });
  }
}

function parseJson(text: string, isHeader: boolean): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TraceLineShapeError(isHeader ? 'not-a-trace' : 'malformed', `not JSON (${(error as Error).message})`);
  }
}
