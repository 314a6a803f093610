// The reader primitives are tested through their decoders (result-decoder.test.ts,
// call-decoder.test.ts); this file covers what they share outside a decode.
import { describe, expect, it } from 'vitest';
import { newByteArray } from '../../src/protocol/message-reader.js';

describe('newByteArray', () => {
  it('gives exactly the length asked for, a plain Uint8Array over a buffer of its own, below and above the unfilled size', () => {
    const seen = new Set<ArrayBufferLike>();
    for (const byteLength of [0, 1, 64, 65, 4095, 4096, 1 << 20]) {
      const bytes = newByteArray(byteLength);
      expect(bytes.constructor).toBe(Uint8Array);
      expect([bytes.byteOffset, bytes.byteLength, bytes.buffer.byteLength]).toEqual([0, byteLength, byteLength]);
      expect(seen.has(bytes.buffer)).toBe(false);
      seen.add(bytes.buffer);
    }
  });
});
