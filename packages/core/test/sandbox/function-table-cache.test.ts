import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import { encodeGuestFunctionDetails, type GuestFunctionSignature } from '../../src/protocol/codec.js';
import { decodeFunctionTable } from '../../src/sandbox/function-table-cache.js';

const table = (name: string): GuestFunctionSignature[] => [
  { name, parameters: ['i32', 'string'], returnType: 'bytes' },
  { name: `${name}2`, parameters: [], returnType: 'void' },
];

describe('decodeFunctionTable', () => {
  it('decodes like decodeGuestFunctionDetails and returns frozen signatures', () => {
    const signatures = decodeFunctionTable(encodeGuestFunctionDetails(table('Cached')));
    expect(signatures).toEqual(table('Cached'));
    expect(Object.isFrozen(signatures) && Object.isFrozen(signatures[0]) && Object.isFrozen(signatures[0]!.parameters)).toBe(true);
  });

  it('returns the table decoded before for equal bytes, and decodes other bytes afresh', () => {
    const first = decodeFunctionTable(encodeGuestFunctionDetails(table('Same')));
    // A copy at another offset of a larger buffer: only the bytes matter.
    const bytes = encodeGuestFunctionDetails(table('Same'));
    const shifted = new Uint8Array(bytes.byteLength + 3);
    shifted.set(bytes, 3);
    expect(decodeFunctionTable(shifted.subarray(3))).toBe(first);
    const other = decodeFunctionTable(encodeGuestFunctionDetails(table('Other')));
    expect(other).not.toBe(first);
    expect(other[0]!.name).toBe('Other');
  });

  it('keeps a copy of the bytes: a guest that rewrites its output buffer later changes nothing', () => {
    const bytes = encodeGuestFunctionDetails(table('Kept'));
    const first = decodeFunctionTable(bytes);
    bytes.fill(0xff);
    expect(() => decodeFunctionTable(bytes)).toThrow(GuestProtocolError);
    expect(decodeFunctionTable(encodeGuestFunctionDetails(table('Kept')))).toBe(first);
  });

  it('keeps the 8 most recently used tables', () => {
    const first = decodeFunctionTable(encodeGuestFunctionDetails(table('Evicted')));
    for (let i = 0; i < 8; i++) decodeFunctionTable(encodeGuestFunctionDetails(table(`Filler${i}`)));
    expect(decodeFunctionTable(encodeGuestFunctionDetails(table('Evicted')))).not.toBe(first);
  });
});
