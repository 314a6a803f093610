/**
 * Shape and type checks of a trace file's lines, after `JSON.parse`. Each
 * check returns the parsed value itself, typed, or throws a
 * {@link TraceLineShapeError} saying which field is wrong; the reader adds the
 * file and line number. Unknown keys are ignored, so a writer of the same
 * version may add fields.
 */
import {
  TRACE_FILE_FORMAT,
  TRACE_FILE_VERSION,
  TRACE_LEVEL_NAMES,
  type TraceFileHeader,
  type TraceFileTrailer,
  type TraceLine,
} from './trace-file.js';
import type { TraceFileErrorReason } from './trace-file-error.js';

/** A line that is not what it should be; `reason` is the {@link TraceFileErrorReason} to report. */
export class TraceLineShapeError extends Error {
  override readonly name = 'TraceLineShapeError';
  /** @param reason - the reader's error reason @param detail - what is wrong */
  constructor(readonly reason: TraceFileErrorReason, readonly detail: string) {
    super(detail);
  }
}

type Fields = Record<string, unknown>;

const ADDRESS = /^0x[0-9a-f]{1,16}$/i;
const SHA256 = /^[0-9a-f]{64}$/i;
const UNIX_NANO = /^[0-9]{1,20}$/;

function fail(detail: string): never {
  throw new TraceLineShapeError('malformed', detail);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function object(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} is not a JSON object`);
  return value as Fields;
}

function integer(o: Fields, key: string, min = Number.MIN_SAFE_INTEGER): void {
  const value = o[key];
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    fail(`"${key}" must be an integer${min === 0 ? ' >= 0' : min === 1 ? ' >= 1' : ''}, got ${describe(value)}`);
  }
}

function idOrNull(o: Fields, key: string): void {
  if (o[key] !== null) integer(o, key, 1);
}

function string(o: Fields, key: string, pattern?: RegExp): void {
  const value = o[key];
  if (typeof value !== 'string' || (pattern && !pattern.test(value))) {
    fail(`"${key}" must be ${pattern ? `a string matching ${pattern.source}` : 'a string'}, got ${describe(value)}`);
  }
}

function stringOrNull(o: Fields, key: string): void {
  if (o[key] !== null) string(o, key);
}

function oneOf(o: Fields, key: string, allowed: readonly unknown[]): void {
  if (!allowed.includes(o[key])) fail(`"${key}" must be one of ${allowed.map(describe).join(', ')}, got ${describe(o[key])}`);
}

function interval(o: Fields): void {
  integer(o, 'start');
  integer(o, 'end');
  if ((o.end as number) < (o.start as number)) fail(`"end" (${o.end as number}) is before "start" (${o.start as number})`);
}

function fields(o: Fields): void {
  for (const [key, value] of Object.entries(object(o.fields, '"fields"'))) {
    const ok = typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
    if (!ok) fail(`field "${key}" must be a string, finite number or boolean, got ${describe(value)}`);
  }
}

function named(o: Fields): void {
  integer(o, 'run', 1);
  string(o, 'name');
  string(o, 'target');
  oneOf(o, 'level', TRACE_LEVEL_NAMES);
  fields(o);
}

/**
 * Checks line 1. A value without the right `format` is not a trace file; a
 * known format with another `version` is unsupported.
 * @throws TraceLineShapeError with reason `not-a-trace`, `unsupported-version` or `malformed`
 */
export function checkTraceHeader(value: unknown): TraceFileHeader {
  if (typeof value !== 'object' || value === null || (value as Fields).format !== TRACE_FILE_FORMAT) {
    throw new TraceLineShapeError('not-a-trace', `line 1 is not a header with "format":"${TRACE_FILE_FORMAT}"`);
  }
  const o = value as Fields;
  if (o.version !== TRACE_FILE_VERSION) {
    throw new TraceLineShapeError('unsupported-version', `format version ${describe(o.version)} is not supported (this reader knows ${TRACE_FILE_VERSION})`);
  }
  const guest = object(o.guest, '"guest"');
  string(guest, 'sha256', SHA256);
  string(guest, 'imageBase', ADDRESS);
  string(guest, 'linkBase', ADDRESS);
  const clock = object(o.clock, '"clock"');
  if (typeof clock.tscFrequencyHz !== 'number' || !(clock.tscFrequencyHz > 0) || !Number.isFinite(clock.tscFrequencyHz)) {
    fail(`"tscFrequencyHz" must be a positive number, got ${describe(clock.tscFrequencyHz)}`);
  }
  oneOf(clock, 'source', ['hypervisor', 'estimated']);
  oneOf(clock, 'invariantTsc', [true, false, null]);
  string(o, 'startTimeUnixNano', UNIX_NANO);
  string(o, 'createdBy');
  return o as unknown as TraceFileHeader;
}

/**
 * Checks the trailer (a line with `"type":"end"`).
 * @throws TraceLineShapeError with reason `malformed`
 */
export function checkTraceTrailer(o: Fields): TraceFileTrailer {
  integer(o, 'records', 0);
  const dropped = object(o.dropped, '"dropped"');
  for (const key of ['malformed', 'oversized', 'unknownSpan', 'guestLost', 'limit']) integer(dropped, key, 0);
  return o as unknown as TraceFileTrailer;
}

/**
 * Checks a body line, or returns undefined for the trailer's `"type":"end"`
 * (check that one with {@link checkTraceTrailer}).
 * @throws TraceLineShapeError with reason `malformed`
 */
export function checkTraceLine(value: unknown): TraceLine | undefined {
  const o = object(value, 'the line');
  switch (o.type) {
    case 'run':
      integer(o, 'run', 1);
      oneOf(o, 'operation', ['init', 'call']);
      stringOrNull(o, 'function');
      interval(o);
      stringOrNull(o, 'error');
      break;
    case 'span':
      named(o);
      integer(o, 'id', 1);
      idOrNull(o, 'parent');
      interval(o);
      if (o.unclosed !== undefined) oneOf(o, 'unclosed', [true, false]);
      break;
    case 'event':
      named(o);
      idOrNull(o, 'span');
      integer(o, 'time');
      break;
    case 'alloc':
    case 'free': {
      integer(o, 'run', 1);
      integer(o, 'time');
      string(o, 'address', ADDRESS);
      integer(o, 'size', 0);
      if (!Array.isArray(o.stack)) fail(`"stack" must be an array, got ${describe(o.stack)}`);
      const bad = (o.stack as unknown[]).find((frame) => typeof frame !== 'string' || !ADDRESS.test(frame));
      if (bad !== undefined) fail(`"stack" must hold "0x…" addresses, got ${describe(bad)}`);
      break;
    }
    case 'end':
      return undefined;
    default:
      fail(`unknown line type ${describe(o.type)}`);
  }
  return o as unknown as TraceLine;
}
