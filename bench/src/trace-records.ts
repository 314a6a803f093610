/**
 * Trace records as a traced guest leaves them in the trace area
 * (docs/tracing-format.md), for the stand-in guest.
 */
import { Abi } from '@hyperlight-ts/core/backend';

const encoder = new TextEncoder();
const RUN_START_SIZE = Abi.TRACE_RECORD_HEADER_SIZE + 8;

function padded(size: number): number {
  return Math.ceil(size / Abi.TRACE_RECORD_ALIGNMENT) * Abi.TRACE_RECORD_ALIGNMENT;
}

/** A span with one string field, as {@link callRecords} writes it. */
export interface SpanRecord {
  readonly name: string;
  readonly target: string;
  readonly key: string;
  readonly value: string;
}

/**
 * The records of one call: RUN_START and, when `span` is given, that span
 * opened (level Info) and closed; time stamps 1000 ticks apart.
 */
export function callRecords(span?: SpanRecord): Uint8Array {
  const strings = span ? [span.name, span.target, span.key, span.value].map((s) => encoder.encode(s)) : [];
  const [name, target, key, value] = strings;
  const openSize = Abi.TRACE_RECORD_HEADER_SIZE + 8 + 4 + strings.reduce((sum, s) => sum + s.length, 0);
  const open = padded(RUN_START_SIZE);
  const close = open + padded(openSize);
  const bytes = new Uint8Array(span ? close + Abi.TRACE_RECORD_HEADER_SIZE : RUN_START_SIZE);
  const view = new DataView(bytes.buffer);
  const header = (at: number, kind: number, level: number, size: number, id: number, tsc: bigint): void => {
    bytes[at] = kind;
    bytes[at + 1] = level;
    view.setUint16(at + 2, size, true);
    view.setUint32(at + 4, id, true);
    view.setBigUint64(at + 8, tsc, true);
  };
  header(0, Abi.TRACE_KIND_RUN_START, 0, RUN_START_SIZE, 0, 1000n);
  view.setUint32(Abi.TRACE_RECORD_HEADER_SIZE, Abi.OP_CALL, true);
  if (!name || !target || !key || !value) return bytes;
  header(open, Abi.TRACE_KIND_SPAN_OPEN, 2, openSize, 1, 2000n);
  view.setUint16(open + 20, name.length, true);
  bytes[open + 22] = target.length;
  bytes[open + 23] = 1;
  let at = open + 24;
  const put = (part: Uint8Array): void => {
    bytes.set(part, at);
    at += part.length;
  };
  put(name);
  put(target);
  bytes[at] = Abi.TRACE_FIELD_STRING;
  bytes[at + 1] = key.length;
  view.setUint16(at + 2, value.length, true);
  at += 4;
  put(key);
  put(value);
  header(close, Abi.TRACE_KIND_SPAN_CLOSE, 0, Abi.TRACE_RECORD_HEADER_SIZE, 1, 3000n);
  return bytes;
}
