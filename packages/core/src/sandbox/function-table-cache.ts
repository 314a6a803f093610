/**
 * Decoded function tables by their bytes. Every sandbox of one guest binary
 * publishes the same `GuestFunctionDetails` at initialisation; comparing the
 * bytes with a table decoded before costs far less than verifying and
 * decoding them again (equal bytes decode to equal tables, so nothing the
 * guest controls is trusted more).
 */
import { decodeGuestFunctionDetails, type GuestFunctionSignature } from '../protocol/codec.js';

/** How many distinct tables are kept (most recently used first). */
const CAPACITY = 8;

const recent: { bytes: Uint8Array; signatures: readonly GuestFunctionSignature[] }[] = [];

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/**
 * `decodeGuestFunctionDetails(payload)`, from a table decoded earlier when
 * one had the same bytes. The signatures returned are frozen and may be shared.
 * @throws GuestProtocolError when `payload` is malformed.
 */
export function decodeFunctionTable(payload: Uint8Array): readonly GuestFunctionSignature[] {
  const index = recent.findIndex((entry) => entry.bytes.byteLength === payload.byteLength && equal(payload, entry.bytes));
  if (index >= 0) {
    const [hit] = recent.splice(index, 1);
    recent.unshift(hit!);
    return hit!.signatures;
  }
  const signatures = Object.freeze(
    decodeGuestFunctionDetails(payload).map((s) => Object.freeze({ ...s, parameters: Object.freeze([...s.parameters]) })),
  );
  recent.unshift({ bytes: payload.slice(), signatures });
  recent.length = Math.min(recent.length, CAPACITY);
  return signatures;
}
