/**
 * Decodes and validates the records a guest left in its trace area
 * (docs/tracing-format.md, "What the host accepts"). Guest bytes are
 * untrusted: every kind, length, string, field and time stamp is checked, a
 * bad record is counted under its reason and skipped, and nothing here throws
 * or does more than one pass over the bytes.
 */
import { Abi } from '@hyperlight-ts/core/backend';

import type { TraceFieldValue } from '../file/index.js';
import { recordLevelName } from '../levels.js';
import type { TraceCounters, TraceDropReason } from '../trace-stats.js';
import type { MemoryRecord, TraceFields, TraceRecord } from './trace-record.js';

/** Bytes of a named body before its strings: u32 parent, u16 name length, u8 target length, u8 field count. */
const NAMED_BODY_SIZE = 8;
/** Bytes of a field before its key: u8 type, u8 key length, u16 value length. */
const FIELD_HEADER_SIZE = 4;
/** Bytes of a memory body before its frames: u64 address, u64 size, u16 frame count, u16 + u32 reserved. */
const MEMORY_BODY_SIZE = 24;
/** Bytes of a RUN_START body: u32 operation, u32 reserved. */
const RUN_START_BODY_SIZE = 8;
/** Bytes of one u64 stack frame. */
const FRAME_SIZE = 8;

const HEADER_SIZE = Abi.TRACE_RECORD_HEADER_SIZE;
const ALIGNMENT_MASK = Abi.TRACE_RECORD_ALIGNMENT - 1;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Takes a validated record; returns why it must still be dropped (say, a
 * close of a span that is not open), or undefined when it was accepted.
 */
export type RecordHandler = (record: TraceRecord) => TraceDropReason | undefined;

/**
 * One sandbox's record decoder. It keeps one piece of state, the last
 * accepted time stamp of the current run, so that time never goes backwards.
 */
export class RecordDecoder {
  #lastTsc = 0n;

  /**
   * @param maxFields - fields kept per record; the rest are validated, then left out and counted under `limit`
   * @param counters - where accepted records and drops are counted
   */
  constructor(
    private readonly maxFields: number,
    private readonly counters: TraceCounters,
  ) {}

  /** A run starts: time stamps may start lower again. */
  beginRun(): void {
    this.#lastTsc = 0n;
  }

  /**
   * Decodes one drained batch, handing each valid record to `handle` in
   * order. A bad record whose `size` lies within the batch is skipped; one
   * whose `size` cannot be trusted ends the batch (counted once).
   */
  decode(bytes: Uint8Array, handle: RecordHandler): void {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    while (offset < bytes.length) {
      if (bytes.length - offset < HEADER_SIZE) return this.counters.drop('malformed');
      const size = view.getUint16(offset + 2, true);
      if (size < HEADER_SIZE) return this.counters.drop('malformed');
      if (size > bytes.length - offset) return this.counters.drop(size > Abi.TRACE_MAX_RECORD_SIZE ? 'oversized' : 'malformed');
      const record = size > Abi.TRACE_MAX_RECORD_SIZE ? 'oversized' : this.#parse(bytes, view, offset, size);
      if (typeof record === 'string') this.counters.drop(record);
      else this.#accept(record, handle);
      offset += (size + ALIGNMENT_MASK) & ~ALIGNMENT_MASK;
    }
  }

  #accept(record: TraceRecord, handle: RecordHandler): void {
    if (record.tsc < this.#lastTsc) return this.counters.drop('malformed');
    const rejected = handle(record);
    if (rejected !== undefined) return this.counters.drop(rejected);
    this.#lastTsc = record.tsc;
    this.counters.records += 1;
    if ('fieldsLeftOut' in record && record.fieldsLeftOut > 0) this.counters.drop('limit', record.fieldsLeftOut);
  }

  #parse(bytes: Uint8Array, view: DataView, offset: number, size: number): TraceRecord | TraceDropReason {
    const kind = bytes[offset]!;
    const levelByte = bytes[offset + 1]!;
    const span = view.getUint32(offset + 4, true);
    const tsc = view.getBigUint64(offset + 8, true);
    const end = offset + size;
    switch (kind) {
      case Abi.TRACE_KIND_SPAN_OPEN:
      case Abi.TRACE_KIND_EVENT: {
        const level = recordLevelName(levelByte);
        if (level === undefined || (kind === Abi.TRACE_KIND_SPAN_OPEN && span === 0)) return 'malformed';
        const body = this.#named(bytes, view, offset, end);
        if (typeof body === 'string') return body;
        const { parent, name, target, fields, fieldsLeftOut } = body;
        if (kind === Abi.TRACE_KIND_EVENT) return parent === 0 ? { kind: 'event', tsc, span, level, name, target, fields, fieldsLeftOut } : 'malformed';
        return { kind: 'spanOpen', tsc, span, parent, level, name, target, fields, fieldsLeftOut };
      }
      case Abi.TRACE_KIND_SPAN_CLOSE:
        return levelByte === 0 && size === HEADER_SIZE ? { kind: 'spanClose', tsc, span } : 'malformed';
      case Abi.TRACE_KIND_SPAN_FIELDS: {
        if (levelByte !== 0) return 'malformed';
        const body = this.#named(bytes, view, offset, end);
        if (typeof body === 'string') return body;
        if (body.parent !== 0 || body.name !== '' || body.target !== '') return 'malformed';
        return { kind: 'spanFields', tsc, span, fields: body.fields, fieldsLeftOut: body.fieldsLeftOut };
      }
      case Abi.TRACE_KIND_ALLOC:
      case Abi.TRACE_KIND_FREE:
        return levelByte === 0 ? memory(kind === Abi.TRACE_KIND_ALLOC ? 'alloc' : 'free', tsc, view, offset, size) : 'malformed';
      case Abi.TRACE_KIND_RUN_START: {
        if (levelByte !== 0 || span !== 0 || size !== HEADER_SIZE + RUN_START_BODY_SIZE) return 'malformed';
        const operation = view.getUint32(offset + HEADER_SIZE, true);
        if (view.getUint32(offset + HEADER_SIZE + 4, true) !== 0) return 'malformed';
        if (operation === Abi.OP_INIT) return { kind: 'runStart', tsc, operation: 'init' };
        return operation === Abi.OP_CALL ? { kind: 'runStart', tsc, operation: 'call' } : 'malformed';
      }
      default:
        return 'malformed';
    }
  }

  /** A named body: parent, name, target and fields, whose lengths must add up to the record's end exactly. */
  #named(bytes: Uint8Array, view: DataView, offset: number, end: number): NamedBody | TraceDropReason {
    let at = offset + HEADER_SIZE;
    if (end - at < NAMED_BODY_SIZE) return 'malformed';
    const parent = view.getUint32(at, true);
    const nameSize = view.getUint16(at + 4, true);
    const targetSize = bytes[at + 6]!;
    const fieldCount = bytes[at + 7]!;
    at += NAMED_BODY_SIZE;
    if (nameSize > Abi.TRACE_MAX_NAME_SIZE) return 'oversized';
    if (end - at < nameSize + targetSize) return 'malformed';
    const name = text(bytes, at, nameSize);
    const target = text(bytes, at + nameSize, targetSize);
    if (name === undefined || target === undefined) return 'malformed';
    at += nameSize + targetSize;
    const fields: TraceFields = {};
    let kept = 0;
    let fieldsLeftOut = 0;
    for (let i = 0; i < fieldCount; i += 1) {
      if (end - at < FIELD_HEADER_SIZE) return 'malformed';
      const type = bytes[at]!;
      const keySize = bytes[at + 1]!;
      const valueSize = view.getUint16(at + 2, true);
      at += FIELD_HEADER_SIZE;
      if (end - at < keySize + valueSize) return 'malformed';
      const key = text(bytes, at, keySize);
      if (key === undefined) return 'malformed';
      const value = fieldValue(type, bytes, view, at + keySize, valueSize);
      if (value === 'malformed' || value === 'oversized') return value;
      at += keySize + valueSize;
      if (Object.hasOwn(fields, key)) setField(fields, key, value.value);
      else if (kept < this.maxFields) {
        setField(fields, key, value.value);
        kept += 1;
      } else fieldsLeftOut += 1;
    }
    return at === end ? { parent, name, target, fields, fieldsLeftOut } : 'malformed';
  }
}

/** The parts of a named body. */
interface NamedBody {
  readonly parent: number;
  readonly name: string;
  readonly target: string;
  readonly fields: TraceFields;
  readonly fieldsLeftOut: number;
}

/** A memory body: address, size and `frame_count` frames filling the record exactly. */
function memory(kind: 'alloc' | 'free', tsc: bigint, view: DataView, offset: number, size: number): MemoryRecord | TraceDropReason {
  const body = offset + HEADER_SIZE;
  if (size < HEADER_SIZE + MEMORY_BODY_SIZE) return 'malformed';
  const frameCount = view.getUint16(body + 16, true);
  if (view.getUint16(body + 18, true) !== 0 || view.getUint32(body + 20, true) !== 0) return 'malformed';
  if (frameCount > Abi.TRACE_MAX_FRAMES) return 'oversized';
  if (size !== HEADER_SIZE + MEMORY_BODY_SIZE + frameCount * FRAME_SIZE) return 'malformed';
  const stack: bigint[] = [];
  for (let i = 0, at = body + MEMORY_BODY_SIZE; i < frameCount; i += 1, at += FRAME_SIZE) stack.push(view.getBigUint64(at, true));
  return { kind, tsc, address: view.getBigUint64(body, true), size: view.getBigUint64(body + 8, true), stack };
}

/**
 * The time stamp of the last record in a batch whose header looks whole,
 * found by walking the sizes alone (before validation; used only to refine an
 * estimated TSC frequency, which guest data can at worst make inaccurate).
 */
export function lastRecordTsc(bytes: Uint8Array): bigint | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let last: bigint | undefined;
  for (let offset = 0; bytes.length - offset >= HEADER_SIZE;) {
    const size = view.getUint16(offset + 2, true);
    if (size < HEADER_SIZE || size > bytes.length - offset) break;
    last = view.getBigUint64(offset + 8, true);
    offset += (size + ALIGNMENT_MASK) & ~ALIGNMENT_MASK;
  }
  return last;
}

/** One field value by its type; the value is wrapped so a string value cannot be mistaken for a drop reason. */
function fieldValue(
  type: number, bytes: Uint8Array, view: DataView, at: number, size: number,
): { readonly value: string | number | boolean } | 'malformed' | 'oversized' {
  switch (type) {
    case Abi.TRACE_FIELD_STRING: {
      if (size > Abi.TRACE_MAX_STRING_VALUE_SIZE) return 'oversized';
      const value = text(bytes, at, size);
      return value === undefined ? 'malformed' : { value };
    }
    case Abi.TRACE_FIELD_I64:
      return size === 8 ? { value: integer(view.getBigInt64(at, true)) } : 'malformed';
    case Abi.TRACE_FIELD_U64:
      return size === 8 ? { value: integer(view.getBigUint64(at, true)) } : 'malformed';
    case Abi.TRACE_FIELD_F64: {
      if (size !== 8) return 'malformed';
      const value = view.getFloat64(at, true);
      // JSON has no NaN or infinities: keep them as their names.
      return { value: Number.isFinite(value) ? value : String(value) };
    }
    case Abi.TRACE_FIELD_BOOL: {
      const byte = bytes[at];
      return size === 1 && (byte === 0 || byte === 1) ? { value: byte === 1 } : 'malformed';
    }
    default:
      return 'malformed';
  }
}

/** An integer as a number when it is exact, else as its decimal digits. */
function integer(value: bigint): number | string {
  return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
}

/**
 * Sets a field as an own, enumerable property, whatever its key: a plain
 * assignment of `__proto__` would set the object's prototype instead.
 */
export function setField(fields: TraceFields, key: string, value: TraceFieldValue): void {
  if (key === '__proto__') Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  else fields[key] = value;
}

/** UTF-8 text at `at`; undefined when it is not valid UTF-8. */
function text(bytes: Uint8Array, at: number, size: number): string | undefined {
  if (size === 0) return '';
  try {
    return utf8.decode(bytes.subarray(at, at + size));
  } catch {
    return undefined;
  }
}
