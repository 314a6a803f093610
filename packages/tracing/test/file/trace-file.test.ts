import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  readTraceFile,
  streamTraceFile,
  TRACE_FILE_FORMAT,
  TRACE_FILE_VERSION,
  TraceFileError,
  TraceFileWriter,
  type MemoryLine,
  type TraceFileErrorReason,
} from '../../src/index.js';
import { EVERY_LINE, HEADER, NO_DROPS } from './trace-file-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'trace-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tempPath = () => join(dir, `t${counter++}.jsonl`);
const ALLOC = EVERY_LINE[0] as MemoryLine;

function writeComplete(path = tempPath()): string {
  const writer = new TraceFileWriter(path, HEADER);
  for (const line of EVERY_LINE) expect(writer.write(line)).toBe(true);
  writer.close({ ...NO_DROPS, guestLost: 3 });
  return path;
}

/** The text of a complete file with `edit` applied to its lines. */
function withLines(edit: (lines: string[]) => string[], end = '\n'): string {
  const lines = readFileSync(writeComplete(), 'utf8').trimEnd().split('\n');
  const path = tempPath();
  writeFileSync(path, edit(lines).join('\n') + end);
  return path;
}

async function failure(path: string): Promise<TraceFileError> {
  const error = await readTraceFile(path).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TraceFileError);
  const fileError = error as TraceFileError;
  expect(fileError.code).toBe('HL_ERR_TRACE_FILE');
  expect(fileError.path).toBe(path);
  expect(fileError.message).not.toContain('\n');
  return fileError;
}

async function expectFailure(path: string, reason: TraceFileErrorReason, line: number | undefined, text: RegExp): Promise<void> {
  const error = await failure(path);
  expect({ reason: error.reason, line: error.line }).toEqual({ reason, line });
  expect(error.message).toMatch(text);
}

describe('TraceFileWriter and readTraceFile', () => {
  it('round-trips every line type, field kind and the trailer', async () => {
    const path = writeComplete();
    const file = await readTraceFile(path);
    expect(file.header).toEqual({ format: TRACE_FILE_FORMAT, version: TRACE_FILE_VERSION, ...HEADER });
    expect(file.lines).toEqual(EVERY_LINE);
    expect(file.trailer).toEqual({ type: 'end', records: EVERY_LINE.length, dropped: { ...NO_DROPS, guestLost: 3 } });
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(EVERY_LINE.length + 3);
    expect(text.startsWith('{"format":"hyperlight-trace","version":1,')).toBe(true);
  });

  it('counts bytes and lines, refuses writes after close and closes once', () => {
    const path = tempPath();
    const writer = new TraceFileWriter(path, HEADER);
    writer.write(ALLOC);
    expect(writer.linesWritten).toBe(1);
    writer.close(NO_DROPS);
    const size = statSync(path).size;
    expect(writer.bytesWritten).toBe(size);
    expect(writer.write(ALLOC)).toBe(false);
    writer.close(NO_DROPS);
    expect(statSync(path).size).toBe(size);
  });

  it('holds lines until flush(), and writes them by itself once 64 KiB wait', () => {
    const path = tempPath();
    const writer = new TraceFileWriter(path, HEADER);
    const headerSize = statSync(path).size;
    writer.write(ALLOC);
    expect(statSync(path).size).toBe(headerSize);
    writer.flush();
    const flushed = writer.bytesWritten;
    expect(statSync(path).size).toBe(flushed);
    let n = 0;
    do writer.write({ ...ALLOC, time: n++ });
    while (statSync(path).size === flushed);
    // The line that took the buffer to 64 KiB flushed it, itself included.
    expect(statSync(path).size).toBe(writer.bytesWritten);
    expect(writer.bytesWritten - flushed).toBeGreaterThanOrEqual(64 * 1024);
    writer.close(NO_DROPS);
    expect(statSync(path).size).toBe(writer.bytesWritten);
  });

  it('stops at the size cap, counts refused lines under limit and stays within the cap', async () => {
    const path = tempPath();
    const maxBytes = 1024;
    const writer = new TraceFileWriter(path, HEADER, { maxBytes });
    let written = 0;
    for (let i = 0; i < 100; i++) if (writer.write({ ...ALLOC, time: i })) written++;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(100);
    expect(writer.linesWritten).toBe(written);
    writer.close({ ...NO_DROPS, limit: 5 });
    expect(statSync(path).size).toBeLessThanOrEqual(maxBytes);
    const file = await readTraceFile(path);
    expect(file.lines).toHaveLength(written);
    expect(file.trailer.dropped.limit).toBe(5 + 100 - written);
  });

  it('rejects a cap too small for the header and trailer', () => {
    expect(() => new TraceFileWriter(tempPath(), HEADER, { maxBytes: 100 })).toThrow(/maxBytes/);
    expect(() => new TraceFileWriter(tempPath(), HEADER, { maxBytes: 0 })).toThrow(/positive integer/);
  });

  it('reports progress up to the file size', async () => {
    const path = tempPath();
    const writer = new TraceFileWriter(path, HEADER);
    for (let i = 0; i < 5000; i++) writer.write({ ...ALLOC, time: i });
    writer.close(NO_DROPS);
    const total = statSync(path).size;
    const calls: [number, number][] = [];
    await readTraceFile(path, { onProgress: (read, size) => calls.push([read, size]) });
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.every(([, size]) => size === total)).toBe(true);
    expect(calls.map(([read]) => read)).toEqual([...calls.map(([read]) => read)].sort((a, b) => a - b));
    expect(calls.at(-1)).toEqual([total, total]);
  });

  it('streams entries in file order with line numbers, and closes the file when stopped early', async () => {
    const path = writeComplete();
    const kinds: string[] = [];
    for await (const entry of streamTraceFile(path)) {
      kinds.push(entry.kind === 'line' ? `line ${entry.lineNumber}` : entry.kind);
    }
    expect(kinds).toEqual(['header', ...EVERY_LINE.map((_, i) => `line ${i + 2}`), 'trailer']);
    for await (const entry of streamTraceFile(path)) {
      expect(entry.kind).toBe('header');
      break;
    }
  });
});

describe('readTraceFile errors', () => {
  it('missing file', async () => {
    await expectFailure(join(dir, 'nope.jsonl'), 'missing', undefined, /nope\.jsonl: no such file$/);
  });

  it('a directory and an empty file are not traces', async () => {
    await expectFailure(dir, 'not-a-trace', undefined, /not a regular file/);
    const empty = tempPath();
    writeFileSync(empty, '');
    await expectFailure(empty, 'not-a-trace', undefined, /empty/);
  });

  it('a file of something else is not a trace', async () => {
    const text = tempPath();
    writeFileSync(text, 'hello world\n');
    await expectFailure(text, 'not-a-trace', 1, /line 1: not JSON/);
    const json = tempPath();
    writeFileSync(json, '{"name":"package"}\n');
    await expectFailure(json, 'not-a-trace', 1, /"format":"hyperlight-trace"/);
    const binary = tempPath();
    writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    await expectFailure(binary, 'not-a-trace', 1, /not JSON/);
  });

  it('unknown version', async () => {
    const path = withLines((lines) => [lines[0]!.replace('"version":1', '"version":2'), ...lines.slice(1)]);
    await expectFailure(path, 'unsupported-version', 1, /format version 2 is not supported/);
  });

  it('no trailer is truncated', async () => {
    await expectFailure(withLines((lines) => lines.slice(0, -1)), 'truncated', EVERY_LINE.length + 1, /without a trailer/);
    await expectFailure(withLines((lines) => lines.slice(0, 1)), 'truncated', 1, /without a trailer/);
  });

  it('a partial last line is truncated', async () => {
    const path = withLines((lines) => [...lines.slice(0, -1), lines.at(-1)!.slice(0, 20)], '');
    await expectFailure(path, 'truncated', EVERY_LINE.length + 2, /incomplete/);
    const cutAfterBody = withLines((lines) => lines.slice(0, -1), '');
    await expectFailure(cutAfterBody, 'truncated', EVERY_LINE.length + 1, /incomplete/);
  });

  it('a bad line is malformed, with its line number', async () => {
    const cases: [(line: string) => string, RegExp][] = [
      [(l) => l.replace('"size":64', '"size":-1'), /"size" must be an integer >= 0, got -1/],
      [(l) => l.replace('"size":64', '"size":"64"'), /"size" must be an integer/],
      [(l) => l.replace('"0x201234"', '"201234"'), /"stack" must hold/],
      [(l) => l.replace('"address":"0x20a000"', '"address":12'), /"address" must be a string matching/],
      [(l) => l.replace('"type":"alloc"', '"type":"mystery"'), /unknown line type "mystery"/],
      [(l) => l.slice(1), /not JSON/],
      [() => '[1,2]', /not a JSON object/],
      [() => '', /empty/],
    ];
    for (const [edit, text] of cases) {
      await expectFailure(withLines((lines) => [lines[0]!, edit(lines[1]!), ...lines.slice(2)]), 'malformed', 2, text);
    }
    const span = EVERY_LINE.findIndex((l) => l.type === 'span') + 1;
    const spanCases: [(line: string) => string, RegExp][] = [
      [(l) => l.replace('"level":"debug"', '"level":"loud"'), /"level" must be one of/],
      [(l) => l.replace('"end":180', '"end":100'), /"end" \(100\) is before "start" \(120\)/],
      [(l) => l.replace('"parent":1', '"parent":0'), /"parent" must be an integer >= 1/],
      [(l) => l.replace('"f":-1.5', '"f":null'), /field "f" must be/],
      [(l) => l.replace('"fields":{"f":-1.5}', '"fields":[]'), /"fields" is not a JSON object/],
    ];
    for (const [edit, text] of spanCases) {
      const path = withLines((lines) => lines.map((l, i) => (i === span ? edit(l) : l)));
      await expectFailure(path, 'malformed', span + 1, text);
    }
  });

  it('a bad header, a bad trailer, a wrong record count or a line after the trailer is malformed', async () => {
    const last = EVERY_LINE.length + 2;
    await expectFailure(withLines((l) => [l[0]!.replace('"sha256":"abab', '"sha256":"xyab'), ...l.slice(1)]), 'malformed', 1, /"sha256"/);
    await expectFailure(withLines((l) => [l[0]!.replace('"source":"hypervisor"', '"source":"guess"'), ...l.slice(1)]), 'malformed', 1, /"source"/);
    await expectFailure(withLines((l) => [...l.slice(0, -1), l.at(-1)!.replace('"limit":0', '"limit":-2')]), 'malformed', last, /"limit"/);
    await expectFailure(withLines((l) => [...l.slice(0, -1), l.at(-1)!.replace('"records":8', '"records":9')]), 'malformed', last, /counts 9 records but the file has 8/);
    await expectFailure(withLines((l) => [...l, l[1]!]), 'malformed', last + 1, /follows the trailer/);
  });

  it('a line over the size limit is malformed without being read whole', async () => {
    const path = withLines((l) => [l[0]!, `{"type":"event","name":"${'x'.repeat(3 * 1024 * 1024)}"}`, ...l.slice(1)]);
    await expectFailure(path, 'malformed', 2, /longer than 1048576 bytes/);
  });
});
