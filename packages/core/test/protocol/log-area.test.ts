import { describe, expect, it } from 'vitest';
import { GuestProtocolError } from '../../src/errors.js';
import { encodeLogRecord, LogLevel, type LogRecord } from '../../src/protocol/codec.js';
import { writeFrame } from '../../src/protocol/framing.js';
import { drainLogArea } from '../../src/protocol/log-area.js';

const RECORDS: LogRecord[] = [
  { level: LogLevel.Info, message: 'started', target: 'app', sourceFile: 'main.rs', line: 1 },
  { level: LogLevel.Error, message: 'odd length 🦀!', target: '', sourceFile: 'lib.c', line: 99 },
  { level: LogLevel.Trace, message: '', target: 'x', sourceFile: '', line: 0 },
];

/** Lays records out as a guest does; returns the area and the offset of each record. */
function logArea(records: readonly Uint8Array[], size = 4096): { area: Uint8Array; offsets: number[] } {
  const area = new Uint8Array(size);
  const offsets: number[] = [];
  let offset = 4;
  for (const payload of records) {
    offsets.push(offset);
    writeFrame(area.subarray(offset), payload, 'log record', 'logSize');
    offset += Math.ceil((4 + payload.length) / 4) * 4;
  }
  setUsed(area, offset - 4);
  return { area, offsets };
}

const setUsed = (area: Uint8Array, used: number): void => new DataView(area.buffer, area.byteOffset).setUint32(0, used, true);
const used = (area: Uint8Array): number => new DataView(area.buffer, area.byteOffset).getUint32(0, true);

function rejection(area: Uint8Array): GuestProtocolError {
  try {
    drainLogArea(area);
  } catch (error) {
    expect(error).toBeInstanceOf(GuestProtocolError);
    return error as GuestProtocolError;
  }
  throw new Error('drainLogArea accepted a malformed area');
}

describe('drainLogArea', () => {
  it('decodes every record in order and resets the used count', () => {
    const { area } = logArea(RECORDS.map(encodeLogRecord));
    expect(drainLogArea(area)).toEqual(RECORDS);
    expect(used(area)).toBe(0);
    expect(drainLogArea(area)).toEqual([]);
  });

  it('reads nothing from an empty area or one too small for the header', () => {
    expect(drainLogArea(new Uint8Array(4096))).toEqual([]);
    expect(drainLogArea(new Uint8Array(2))).toEqual([]);
  });

  it('accepts records that fill the area exactly', () => {
    const payload = encodeLogRecord(RECORDS[0]!);
    const { area } = logArea([payload, payload], 4 + 2 * Math.ceil((4 + payload.length) / 4) * 4);
    expect(drainLogArea(area)).toEqual([RECORDS[0], RECORDS[0]]);
  });

  it('rejects a used count larger than the area, and still resets it', () => {
    for (const bad of [4093, 0xffff_ffff]) {
      const area = new Uint8Array(4096);
      setUsed(area, bad);
      expect(rejection(area).detail).toMatch(new RegExp(`log area claims ${bad} used bytes but holds at most 4092`));
      expect(used(area)).toBe(0);
    }
  });

  it('rejects a record that runs past the used bytes', () => {
    const { area, offsets } = logArea(RECORDS.map(encodeLogRecord));
    setUsed(area, offsets[2]! + 8 - 4);
    expect(rejection(area).detail).toMatch(new RegExp(`log record 2 at log area offset ${offsets[2]}: frame claims \\d+ payload bytes`));
  });

  it('rejects a record with a huge length', () => {
    const { area, offsets } = logArea(RECORDS.map(encodeLogRecord));
    new DataView(area.buffer).setUint32(offsets[1]!, 0xffff_fff0, true);
    expect(rejection(area).detail).toMatch(/log record 1 at log area offset \d+: frame claims 4294967280 payload bytes/);
  });

  it('rejects a malformed record, naming it', () => {
    const { area, offsets } = logArea([encodeLogRecord(RECORDS[0]!), new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4])]);
    const error = rejection(area);
    expect(error.detail).toMatch(new RegExp(`^log record 1 at log area offset ${offsets[1]}: malformed LogRecord message: `));
    expect(error.cause).toBeInstanceOf(GuestProtocolError);
  });

  it('rejects an empty record instead of looping on it', () => {
    const area = new Uint8Array(64);
    setUsed(area, 16);
    expect(rejection(area).detail).toMatch(/log record 0 at log area offset 4: malformed LogRecord message: root table/);
  });

  it('drains garbage areas without hanging or throwing anything but GuestProtocolError', () => {
    let state = 7;
    const random = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 2000; i++) {
      const area = Uint8Array.from({ length: 256 }, () => Math.floor(random() * 256));
      setUsed(area, Math.floor(random() * 260));
      try {
        drainLogArea(area);
      } catch (error) {
        expect(error).toBeInstanceOf(GuestProtocolError);
      }
      expect(used(area)).toBe(0);
    }
  });
});
