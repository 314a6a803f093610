import { Abi } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';

import { lastRecordTsc, RecordDecoder, type RecordHandler } from '../../src/records/record-decoder.js';
import type { TraceRecord } from '../../src/records/trace-record.js';
import { TraceCounters } from '../../src/trace-stats.js';
import {
  batch, event, field, memory, namedBody, rawField, record, runStart, spanClose, spanFields, spanOpen, withSize,
} from '../support/trace-records.js';

function decode(bytes: Uint8Array, options: { maxFields?: number; handle?: RecordHandler } = {}) {
  const counters = new TraceCounters();
  const decoder = new RecordDecoder(options.maxFields ?? 64, counters);
  const records: TraceRecord[] = [];
  decoder.decode(bytes, (r) => {
    records.push(r);
    return options.handle?.(r);
  });
  return { records, stats: counters.snapshot(), decoder, counters };
}

const NONE = { malformed: 0, oversized: 0, unknownSpan: 0, guestLost: 0, limit: 0 };
const utf8 = new TextEncoder();

describe('RecordDecoder', () => {
  it('decodes every kind with its fields', () => {
    const { records, stats } = decode(batch(
      runStart(100n, 'init'),
      spanOpen(1, 0, {
        tsc: 110n, name: 'load', target: 'my_guest::db', level: 1,
        fields: [
          { type: 'string', key: 'table', value: 'users ✓' },
          { type: 'i64', key: 'delta', value: -5n },
          { type: 'u64', key: 'rows', value: 12n },
          { type: 'f64', key: 'ratio', value: 0.25 },
          { type: 'bool', key: 'cached', value: true },
          { type: 'u64', key: 'big', value: 2n ** 64n - 1n },
          { type: 'i64', key: 'small', value: -(2n ** 60n) },
          { type: 'f64', key: 'nan', value: Number.NaN },
        ],
      }),
      spanFields(1, 120n, [{ type: 'bool', key: 'hit', value: false }]),
      event(1, { tsc: 130n, name: 'fetched', target: 'my_guest::db', level: 3 }),
      memory('alloc', 0x20a010n, 64n, [0x1f2a0n, 0x1f000n], 140n, 1),
      memory('free', 0x20a010n, 64n, [], 150n),
      spanClose(1, 160n),
    ));
    expect(stats.records).toBe(7);
    expect(stats.dropped).toEqual(NONE);
    expect(records.map((r) => r.kind)).toEqual(['runStart', 'spanOpen', 'spanFields', 'event', 'alloc', 'free', 'spanClose']);
    expect(records[0]).toEqual({ kind: 'runStart', tsc: 100n, operation: 'init' });
    expect(records[1]).toMatchObject({ kind: 'spanOpen', span: 1, parent: 0, level: 'debug', name: 'load', target: 'my_guest::db', tsc: 110n });
    expect({ ...(records[1] as { fields: object }).fields }).toEqual({
      table: 'users ✓', delta: -5, rows: 12, ratio: 0.25, cached: true, big: '18446744073709551615', small: '-1152921504606846976', nan: 'NaN',
    });
    expect(records[3]).toMatchObject({ kind: 'event', span: 1, level: 'warn', name: 'fetched' });
    expect(records[4]).toEqual({ kind: 'alloc', tsc: 140n, address: 0x20a010n, size: 64n, stack: [0x1f2a0n, 0x1f000n] });
    expect(records[5]).toEqual({ kind: 'free', tsc: 150n, address: 0x20a010n, size: 64n, stack: [] });
  });

  it('reports the tsc of the last whole record of a batch', () => {
    expect(lastRecordTsc(batch(runStart(5n), spanClose(1, 9n)))).toBe(9n);
    expect(lastRecordTsc(new Uint8Array(8))).toBeUndefined();
  });

  it('treats a key that is an object-prototype name as a plain key', () => {
    const { records } = decode(batch(event(0, {
      tsc: 1n,
      fields: [{ type: 'string', key: '__proto__', value: 'x' }, { type: 'bool', key: 'toString', value: true }, { type: 'bool', key: '__proto__', value: false }],
    })));
    const fields = (records[0] as { fields: Record<string, unknown> }).fields;
    expect(Object.keys(fields)).toEqual(['__proto__', 'toString']);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(JSON.stringify(fields)).toBe('{"__proto__":false,"toString":true}');
  });

  // Each case: the bad record, then a good one after it; `resumes` says whether the good one is still decoded.
  const cases: { name: string; bad: Uint8Array; reason: 'malformed' | 'oversized'; resumes: boolean }[] = [
    { name: 'an unknown kind', bad: record(9, 0, 0, 1n), reason: 'malformed', resumes: true },
    { name: 'a size below the header', bad: withSize(spanClose(1, 1n), 8), reason: 'malformed', resumes: false },
    { name: 'a size beyond the batch', bad: withSize(spanClose(1, 1n), 4000), reason: 'malformed', resumes: false },
    { name: 'a size over the maximum, beyond the batch', bad: withSize(spanClose(1, 1n), Abi.TRACE_MAX_RECORD_SIZE + 8), reason: 'oversized', resumes: false },
    {
      name: 'a size over the maximum, inside the batch',
      bad: withSize(record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, new Uint8Array(Abi.TRACE_MAX_RECORD_SIZE)), Abi.TRACE_MAX_RECORD_SIZE + 16),
      reason: 'oversized', resumes: true,
    },
    { name: 'a close with a body', bad: record(Abi.TRACE_KIND_SPAN_CLOSE, 0, 1, 1n, new Uint8Array(8)), reason: 'malformed', resumes: true },
    { name: 'a close with a level', bad: record(Abi.TRACE_KIND_SPAN_CLOSE, 2, 1, 1n), reason: 'malformed', resumes: true },
    { name: 'a span with level Off', bad: spanOpen(1, 0, { tsc: 1n, level: 6 }), reason: 'malformed', resumes: true },
    { name: 'a span with id 0', bad: spanOpen(0, 0, { tsc: 1n }), reason: 'malformed', resumes: true },
    { name: 'a named body cut short', bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, new Uint8Array(4)), reason: 'malformed', resumes: true },
    {
      name: 'lengths that run past the size',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'name', 'target').subarray(0, 12)),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'lengths that fall short of the size',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, Uint8Array.from([...namedBody(0, 'name', 'target'), 0, 0, 0])),
      reason: 'malformed', resumes: true,
    },
    { name: 'a field count larger than the fields', bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [], 1)), reason: 'malformed', resumes: true },
    { name: 'a name over the maximum', bad: event(0, { tsc: 1n, name: 'x'.repeat(Abi.TRACE_MAX_NAME_SIZE + 1) }), reason: 'oversized', resumes: true },
    { name: 'a name that is not UTF-8', bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, Uint8Array.of(0xc3, 0x28), 't')), reason: 'malformed', resumes: true },
    { name: 'a target that is not UTF-8', bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', Uint8Array.of(0xff))), reason: 'malformed', resumes: true },
    {
      name: 'a field key that is not UTF-8',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(Abi.TRACE_FIELD_BOOL, Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(1))])),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'a string value that is not UTF-8',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(Abi.TRACE_FIELD_STRING, utf8.encode('k'), Uint8Array.of(0xe2, 0x82))])),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'a string value over the maximum',
      bad: event(0, { tsc: 1n, fields: [{ type: 'string', key: 'k', value: 'v'.repeat(Abi.TRACE_MAX_STRING_VALUE_SIZE + 1) }] }),
      reason: 'oversized', resumes: true,
    },
    {
      name: 'an unknown field type',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(9, utf8.encode('k'), Uint8Array.of(1))])),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'an i64 of 4 bytes',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(Abi.TRACE_FIELD_I64, utf8.encode('k'), new Uint8Array(4))])),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'a bool of 2',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(Abi.TRACE_FIELD_BOOL, utf8.encode('k'), Uint8Array.of(2))])),
      reason: 'malformed', resumes: true,
    },
    {
      name: 'a field whose value length runs past the record',
      bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(0, 'n', 't', [rawField(Abi.TRACE_FIELD_STRING, utf8.encode('k'), utf8.encode('v'), 200)])),
      reason: 'malformed', resumes: true,
    },
    { name: 'an event with a parent', bad: record(Abi.TRACE_KIND_EVENT, 2, 0, 1n, namedBody(7, 'n', 't')), reason: 'malformed', resumes: true },
    { name: 'span fields with a name', bad: record(Abi.TRACE_KIND_SPAN_FIELDS, 0, 1, 1n, namedBody(0, 'n', '')), reason: 'malformed', resumes: true },
    {
      name: 'too many frames',
      bad: withSize(memory('alloc', 1n, 2n, new Array<bigint>(Abi.TRACE_MAX_FRAMES + 1).fill(1n), 1n), 40 + 8 * (Abi.TRACE_MAX_FRAMES + 1)),
      reason: 'oversized', resumes: true,
    },
    { name: 'a frame count that does not match the size', bad: record(Abi.TRACE_KIND_ALLOC, 0, 0, 1n, Uint8Array.from([...new Uint8Array(16), 2, 0, 0, 0, 0, 0, 0, 0])), reason: 'malformed', resumes: true },
    { name: 'a memory record with reserved bits set', bad: record(Abi.TRACE_KIND_FREE, 0, 0, 1n, Uint8Array.from([...new Uint8Array(20), 1, 0, 0, 0])), reason: 'malformed', resumes: true },
    { name: 'a run start with an unknown operation', bad: record(Abi.TRACE_KIND_RUN_START, 0, 0, 1n, Uint8Array.of(7, 0, 0, 0, 0, 0, 0, 0)), reason: 'malformed', resumes: true },
    { name: 'a run start with a span', bad: record(Abi.TRACE_KIND_RUN_START, 0, 3, 1n, new Uint8Array(8)), reason: 'malformed', resumes: true },
  ];

  for (const { name, bad, reason, resumes } of cases) {
    it(`drops ${name} as ${reason}${resumes ? ' and goes on' : ' with the rest of the batch'}`, () => {
      const { records, stats } = decode(batch(bad, spanClose(5, 2n)));
      expect(stats.dropped).toEqual({ ...NONE, [reason]: 1 });
      expect(records.map((r) => r.kind)).toEqual(resumes ? ['spanClose'] : []);
    });
  }

  it('drops a truncated header at the end of a batch', () => {
    const { records, stats } = decode(Uint8Array.from([...batch(spanClose(1, 1n)), 2, 0, 16, 0, 1, 0, 0, 0]));
    expect(records).toHaveLength(1);
    expect(stats.dropped).toEqual({ ...NONE, malformed: 1 });
  });

  it('drops a record whose time goes backwards within a run, and lets it go back after beginRun', () => {
    const { records, stats, decoder } = decode(batch(spanClose(1, 50n), spanClose(2, 40n), spanClose(3, 50n)));
    expect(records.map((r) => (r as { span: number }).span)).toEqual([1, 3]);
    expect(stats.dropped.malformed).toBe(1);
    const again: TraceRecord[] = [];
    decoder.decode(batch(spanClose(4, 10n)), (r) => void again.push(r));
    expect(again).toHaveLength(0);
    decoder.beginRun();
    decoder.decode(batch(spanClose(4, 10n)), (r) => void again.push(r));
    expect(again).toHaveLength(1);
  });

  it('counts what the handler rejects under its reason, and does not advance time for it', () => {
    const { stats, records } = decode(batch(spanClose(1, 50n), spanClose(2, 40n)), { handle: (r) => (r.tsc === 50n ? 'unknownSpan' : undefined) });
    expect(stats.dropped).toEqual({ ...NONE, unknownSpan: 1 });
    expect(stats.records).toBe(1);
    expect(records).toHaveLength(2);
  });

  it('keeps maxFields fields and counts the rest under limit', () => {
    const fields = Array.from({ length: 5 }, (_, i) => ({ type: 'bool' as const, key: `k${i}`, value: true }));
    const { records, stats } = decode(batch(event(0, { tsc: 1n, fields })), { maxFields: 3 });
    expect(Object.keys((records[0] as { fields: object }).fields)).toEqual(['k0', 'k1', 'k2']);
    expect(stats.dropped).toEqual({ ...NONE, limit: 2 });
  });

  it('decodes a flood of 100k tiny records in one pass, holding nothing', () => {
    const flood = new Uint8Array(100_000 * 16);
    for (let i = 0; i < 100_000; i += 1) flood.set(spanClose(i + 1, BigInt(i)), i * 16);
    let handled = 0;
    const counters = new TraceCounters();
    const started = performance.now();
    new RecordDecoder(64, counters).decode(flood, () => {
      handled += 1;
      return 'unknownSpan';
    });
    expect(handled).toBe(100_000);
    expect(counters.dropped.unknownSpan).toBe(100_000);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('never throws on random bytes', () => {
    let seed = 1;
    const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 500; round += 1) {
      const bytes = Uint8Array.from({ length: 64 + (round % 200) }, random);
      bytes[0] = 1 + (round % 7);
      expect(() => decode(bytes)).not.toThrow();
    }
  });
});
