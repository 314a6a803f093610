import { describe, expect, it } from 'vitest';
import { GuestProtocolError, MessageTooLargeError } from '../../src/errors.js';
import { decodeText, decodeTextRange, readFrame, readTextFrame, writeFrame } from '../../src/protocol/framing.js';
import { prng } from './helpers.js';

const text = new TextEncoder();

describe('writeFrame', () => {
  it('writes a u32 little-endian length, then the payload', () => {
    const area = new Uint8Array(16).fill(0xee);
    writeFrame(area, new Uint8Array([1, 2, 3]), 'test', 'inputSize');
    expect([...area.subarray(0, 8)]).toEqual([3, 0, 0, 0, 1, 2, 3, 0xee]);
  });

  it('fills the area exactly, and throws MessageTooLargeError naming the option one byte later', () => {
    const area = new Uint8Array(10);
    writeFrame(area, new Uint8Array(6), 'exact', 'inputSize');
    expect(() => writeFrame(area, new Uint8Array(7), 'call of "Big"', 'inputSize')).toThrow(MessageTooLargeError);
    try {
      writeFrame(area, new Uint8Array(7), 'call of "Big"', 'inputSize');
    } catch (error) {
      expect(error).toMatchObject({ what: 'call of "Big"', sizeBytes: 11, capacityBytes: 10, option: 'inputSize' });
      expect((error as Error).message).toMatch(/raise inputSize/);
    }
    expect(() => writeFrame(new Uint8Array(3), new Uint8Array(), 'empty', 'outputSize')).toThrow(
      expect.objectContaining({ sizeBytes: 4, capacityBytes: 3, option: 'outputSize' }),
    );
  });

  it('works on a view at an unaligned offset', () => {
    const memory = new Uint8Array(32);
    const area = memory.subarray(3, 20);
    writeFrame(area, new Uint8Array([9]), 'test', 'inputSize');
    expect([...memory.subarray(3, 8)]).toEqual([1, 0, 0, 0, 9]);
    expect([...readFrame(area)]).toEqual([9]);
  });
});

describe('readFrame', () => {
  it('returns the payload as a view of the area', () => {
    const area = new Uint8Array(12);
    writeFrame(area, new Uint8Array([5, 6]), 'test', 'inputSize');
    const payload = readFrame(area);
    expect([...payload]).toEqual([5, 6]);
    expect(payload.buffer).toBe(area.buffer);
    expect(readFrame(new Uint8Array(4))).toHaveLength(0);
  });

  it('accepts a payload that exactly fills the area and rejects one byte more', () => {
    const area = new Uint8Array(8);
    area.set([4, 0, 0, 0]);
    expect(readFrame(area)).toHaveLength(4);
    area.set([5, 0, 0, 0]);
    expect(() => readFrame(area)).toThrow(GuestProtocolError);
    expect(() => readFrame(area, 'FunctionCallResult')).toThrow(/FunctionCallResult: frame claims 5 payload bytes but the 8-byte buffer holds at most 4/);
  });

  it('rejects huge lengths and areas too small for a header', () => {
    for (const length of [0xffff_ffff, 0x8000_0000, 0x7fff_fffc]) {
      const area = new Uint8Array(64);
      new DataView(area.buffer).setUint32(0, length, true);
      expect(() => readFrame(area)).toThrow(GuestProtocolError);
    }
    for (const size of [0, 1, 3]) expect(() => readFrame(new Uint8Array(size))).toThrow(/cannot hold a 4-byte frame header/);
  });
});

describe('readTextFrame', () => {
  const frame = (payload: Uint8Array): Uint8Array => {
    const area = new Uint8Array(payload.length + 8);
    writeFrame(area, payload, 'text', 'outputSize');
    return area;
  };

  it('decodes UTF-8, keeping NUL and a leading U+FEFF', () => {
    for (const message of ['', 'hello', 'panic at 🦀 lib.rs:1', '世界\0end', '\uFEFFbom']) {
      expect(readTextFrame(frame(text.encode(message)))).toBe(message);
    }
  });

  it('replaces invalid sequences with U+FFFD', () => {
    expect(readTextFrame(frame(new Uint8Array([0x61, 0xff, 0x62, 0xc3])))).toBe('a\uFFFDb\uFFFD');
    expect(decodeText(new Uint8Array([0xed, 0xa0, 0x80]))).toBe('\uFFFD\uFFFD\uFFFD');
  });

  it('rejects a frame that does not fit', () => {
    const area = frame(text.encode('abc'));
    new DataView(area.buffer).setUint32(0, 1000, true);
    expect(() => readTextFrame(area)).toThrow(/text frame: frame claims 1000 payload bytes/);
  });
});

describe('decodeTextRange', () => {
  it('decodes exactly as decodeText: valid, invalid and truncated UTF-8, BOMs, surrogates, overlongs, random bytes', () => {
    const random = prng(0x7e47);
    /** Pieces that UTF-8 decoders disagree on when they get it wrong. */
    const pieces = [
      [0x61], [0x00], [0xef, 0xbb, 0xbf], [0xc3, 0xa9], [0xe4, 0xb8, 0x96], [0xf0, 0x9f, 0xa6, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
      [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0x80], [0xbf],
      [0xc3], [0xe4, 0xb8], [0xf0, 0x9f, 0xa6], [0xef, 0xbf, 0xbe], [0xef, 0xbf, 0xbf],
    ];
    const area = Buffer.alloc(4096);
    for (let i = 0; i < 20_000; i++) {
      const bytes: number[] = [];
      for (let n = Math.floor(random() * 12); n > 0; n--) {
        if (random() < 0.3) bytes.push(Math.floor(random() * 256));
        else bytes.push(...pieces[Math.floor(random() * pieces.length)]!);
      }
      const start = 1 + Math.floor(random() * 8);
      area.set(bytes, start);
      const expected = decodeText(Uint8Array.from(bytes));
      expect(decodeTextRange(area, start, start + bytes.length), Buffer.from(bytes).toString('hex')).toBe(expected);
    }
    const long = Buffer.from('é🦀a'.repeat(500));
    expect(decodeTextRange(long, 0, long.length)).toBe(decodeText(long));
  });
});
