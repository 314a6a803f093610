/**
 * Test support: encodes guest trace records byte for byte as
 * docs/tracing-format.md ("Records") says a guest writes them, so the
 * collector can be fed synthetic batches without a hypervisor.
 */
import { Abi } from '@hyperlight-ts/core/backend';

/** A field as a guest writes it. */
export type FieldSpec =
  | { readonly type: 'string'; readonly key: string; readonly value: string }
  | { readonly type: 'i64' | 'u64'; readonly key: string; readonly value: bigint }
  | { readonly type: 'f64'; readonly key: string; readonly value: number }
  | { readonly type: 'bool'; readonly key: string; readonly value: boolean };

const FIELD_TYPES = { string: Abi.TRACE_FIELD_STRING, i64: Abi.TRACE_FIELD_I64, u64: Abi.TRACE_FIELD_U64, f64: Abi.TRACE_FIELD_F64, bool: Abi.TRACE_FIELD_BOOL };
const utf8 = new TextEncoder();

/** A record: the 16-byte header (size = 16 + body) and the body, unpadded. */
export function record(kind: number, level: number, span: number, tsc: bigint, body: Uint8Array = new Uint8Array()): Uint8Array {
  const bytes = new Uint8Array(Abi.TRACE_RECORD_HEADER_SIZE + body.length);
  const view = new DataView(bytes.buffer);
  bytes[0] = kind;
  bytes[1] = level;
  view.setUint16(2, bytes.length & 0xffff, true);
  view.setUint32(4, span, true);
  view.setBigUint64(8, tsc, true);
  bytes.set(body, Abi.TRACE_RECORD_HEADER_SIZE);
  return bytes;
}

/** One encoded field: type, key length, value length, key, value. */
export function field(spec: FieldSpec): Uint8Array {
  const key = utf8.encode(spec.key);
  let value: Uint8Array;
  switch (spec.type) {
    case 'string': value = utf8.encode(spec.value); break;
    case 'bool': value = Uint8Array.of(spec.value ? 1 : 0); break;
    case 'f64':
      value = new Uint8Array(8);
      new DataView(value.buffer).setFloat64(0, spec.value, true);
      break;
    default:
      value = new Uint8Array(8);
      if (spec.type === 'i64') new DataView(value.buffer).setBigInt64(0, spec.value, true);
      else new DataView(value.buffer).setBigUint64(0, spec.value, true);
  }
  return rawField(FIELD_TYPES[spec.type], key, value);
}

/** A field from raw parts (for malformed ones). */
export function rawField(type: number, key: Uint8Array, value: Uint8Array, valueLength = value.length): Uint8Array {
  const bytes = new Uint8Array(4 + key.length + value.length);
  bytes[0] = type;
  bytes[1] = key.length;
  new DataView(bytes.buffer).setUint16(2, valueLength, true);
  bytes.set(key, 4);
  bytes.set(value, 4 + key.length);
  return bytes;
}

/** A named body: parent, name, target, fields. */
export function namedBody(parent: number, name: string | Uint8Array, target: string | Uint8Array, fields: readonly Uint8Array[] = [], fieldCount = fields.length): Uint8Array {
  const nameBytes = typeof name === 'string' ? utf8.encode(name) : name;
  const targetBytes = typeof target === 'string' ? utf8.encode(target) : target;
  const parts = [nameBytes, targetBytes, ...fields];
  const body = new Uint8Array(8 + parts.reduce((n, p) => n + p.length, 0));
  const view = new DataView(body.buffer);
  view.setUint32(0, parent, true);
  view.setUint16(4, nameBytes.length, true);
  body[6] = targetBytes.length;
  body[7] = fieldCount;
  let at = 8;
  for (const part of parts) {
    body.set(part, at);
    at += part.length;
  }
  return body;
}

/** Options of a span or event record. */
export interface NamedOptions {
  readonly tsc: bigint;
  readonly name?: string;
  readonly target?: string;
  readonly level?: number;
  readonly fields?: readonly FieldSpec[];
}

/** SPAN_OPEN of `span` inside `parent`. */
export function spanOpen(span: number, parent: number, options: NamedOptions): Uint8Array {
  const { tsc, name = `span${span}`, target = 'guest', level = 2, fields = [] } = options;
  return record(Abi.TRACE_KIND_SPAN_OPEN, level, span, tsc, namedBody(parent, name, target, fields.map(field)));
}

/** SPAN_CLOSE of `span`. */
export function spanClose(span: number, tsc: bigint): Uint8Array {
  return record(Abi.TRACE_KIND_SPAN_CLOSE, 0, span, tsc);
}

/** EVENT inside `span` (0: none). */
export function event(span: number, options: NamedOptions): Uint8Array {
  const { tsc, name = 'happened', target = 'guest', level = 2, fields = [] } = options;
  return record(Abi.TRACE_KIND_EVENT, level, span, tsc, namedBody(0, name, target, fields.map(field)));
}

/** SPAN_FIELDS for `span`. */
export function spanFields(span: number, tsc: bigint, fields: readonly FieldSpec[]): Uint8Array {
  return record(Abi.TRACE_KIND_SPAN_FIELDS, 0, span, tsc, namedBody(0, '', '', fields.map(field)));
}

/** ALLOC or FREE of a block with its stack. */
export function memory(kind: 'alloc' | 'free', address: bigint, size: bigint, stack: readonly bigint[], tsc: bigint, span = 0): Uint8Array {
  const body = new Uint8Array(24 + 8 * stack.length);
  const view = new DataView(body.buffer);
  view.setBigUint64(0, address, true);
  view.setBigUint64(8, size, true);
  view.setUint16(16, stack.length, true);
  stack.forEach((frame, i) => view.setBigUint64(24 + 8 * i, frame, true));
  return record(kind === 'alloc' ? Abi.TRACE_KIND_ALLOC : Abi.TRACE_KIND_FREE, 0, span, tsc, body);
}

/** RUN_START of an init or call. */
export function runStart(tsc: bigint, operation: 'init' | 'call' = 'call'): Uint8Array {
  const body = new Uint8Array(8);
  new DataView(body.buffer).setUint32(0, operation === 'init' ? Abi.OP_INIT : Abi.OP_CALL, true);
  return record(Abi.TRACE_KIND_RUN_START, 0, 0, tsc, body);
}

/** Records laid out as in the trace area: each padded with zeros to the next 8-byte boundary. */
export function batch(...records: readonly Uint8Array[]): Uint8Array {
  const mask = Abi.TRACE_RECORD_ALIGNMENT - 1;
  const size = records.reduce((n, r) => n + ((r.length + mask) & ~mask), 0);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const r of records) {
    bytes.set(r, at);
    at += (r.length + mask) & ~mask;
  }
  return bytes;
}

/** A copy of `bytes` with its size field set to `size`. */
export function withSize(bytes: Uint8Array, size: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint16(2, size, true);
  return copy;
}
