/** Shared fixtures for the protocol tests. */
import { expect } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import {
  encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, encodeLogRecord, ErrorCode, LogLevel,
} from '../../src/protocol/codec.js';
import type { TypedValue } from '../../src/protocol/values.js';

/** mulberry32: a small seeded PRNG, so failures reproduce. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One value of every type, with awkward contents. */
export const SAMPLE_VALUES: readonly TypedValue[] = [
  { type: 'i32', value: -(2 ** 31) },
  { type: 'u32', value: 2 ** 32 - 1 },
  { type: 'i64', value: -(2n ** 63n) },
  { type: 'u64', value: 2n ** 64n - 1n },
  { type: 'f32', value: Math.fround(-1.5) },
  { type: 'f64', value: -0 },
  { type: 'string', value: 'héllo 🦀 世界\0!' },
  { type: 'bool', value: true },
  { type: 'bytes', value: new Uint8Array([0, 1, 2, 255]) },
  { type: 'void', value: undefined },
];

/** A valid payload of every message kind, for corruption tests. */
export const SAMPLE_PAYLOADS = {
  FunctionCall: encodeFunctionCall({ functionName: 'Echo', args: SAMPLE_VALUES, returnType: 'string' }),
  FunctionCallResult: encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: new Uint8Array([9, 8, 7]) } }),
  CallError: encodeFunctionCallResult({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'nope' }),
  GuestFunctionDetails: encodeGuestFunctionDetails([
    { name: 'Add', parameters: ['i32', 'i32'], returnType: 'i32' },
    { name: 'Print', parameters: ['string', 'bytes', 'u64'], returnType: 'void' },
  ]),
  LogRecord: encodeLogRecord({ level: LogLevel.Warn, message: 'disk full', target: 'fs', sourceFile: 'fs.rs', line: 42 }),
} as const;

/** Runs `fn` and asserts it either returns or throws a GuestProtocolError, nothing else. */
export function decodesOrRejects<T>(fn: () => T): T | GuestProtocolError {
  try {
    return fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GuestProtocolError);
    return error as GuestProtocolError;
  }
}

/** A copy of `bytes` with the u32 at `offset` replaced. */
export function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(offset, value >>> 0, true);
  return copy;
}
