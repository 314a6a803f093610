/**
 * zlib 1.2.13, built unmodified with its configure script and Makefile into a
 * guest, against the same library and wrapper built natively: every stream,
 * checksum and error code must be byte-identical, and each side must
 * decompress what the other compressed.
 */
import { constants } from 'node:os';
import type { MultiUseSandbox } from '@hyperlight-ts/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { artifacts, runNative } from './support/artifacts.js';
import type { BatchRecord } from './support/batch.js';
import { compareWithNative, describeHypervisor, guestSandbox, runGuest, type Comparison } from './support/guests.js';
import type { NamedInput } from './support/json-corpus.js';
import { zlibInputs } from './support/zlib-corpus.js';
import {
  checksumsRecord, compressRecord, deflateRecord, FORMAT, gzopenRecord, inflateRecord, readChecksums, STRATEGY, uncompressRecord, Z, ZLIB_OP,
} from './support/zlib-ops.js';

const LEVELS = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

describeHypervisor('zlib 1.2.13 in a guest gives what the native build gives', () => {
  const inputs = zlibInputs(artifacts('zlib').corpus, { large: true });
  const small = inputs.filter((i) => i.data.length < 512 * 1024);
  const printed: string[] = [];
  let sandbox: MultiUseSandbox;
  /** compress2() of every input at every level, in the guest and natively. */
  let compressed: Comparison;
  /** The input behind each record of `compressed`. */
  let compressedInputs: NamedInput[];
  beforeAll(() => {
    sandbox = guestSandbox('zlib', printed);
    compressedInputs = inputs.flatMap((input) => LEVELS.map(() => input));
    compressed = compareWithNative('zlib', sandbox, inputs.flatMap((input) => LEVELS.map((level) => compressRecord(input.name, input.data, level))));
  });
  afterAll(() => sandbox?.dispose());

  it('compress2() at levels 0-9 and the default, on every input', () => {
    expect(compressed.differences).toEqual([]);
    expect(compressed.guest.every((r) => r.status === Z.OK)).toBe(true);
  });

  it('each side uncompresses what the other compressed', () => {
    const records = (side: Comparison['guest']) =>
      side.map((r, i) => uncompressRecord(`${compressedInputs[i]!.name} #${i}`, r.data, compressedInputs[i]!.data.length));
    const inGuest = runGuest(sandbox, records(compressed.native));
    const natively = runNative('zlib', records(compressed.guest));
    compressedInputs.forEach((input, i) => {
      for (const [side, result] of [['guest', inGuest[i]], ['native', natively[i]]] as const) {
        expect(result?.status, `${side} uncompress of ${input.name} #${i}`).toBe(Z.OK);
        expect(Buffer.compare(result!.data, input.data), `${side} uncompress of ${input.name} #${i}`).toBe(0);
      }
    });
  });

  it('deflate() streams: gzip and raw formats, every strategy, chunked input and output', () => {
    const records: BatchRecord[] = small.flatMap((input) => [
      deflateRecord(input.name, input.data, { level: 6, format: FORMAT.gzip }),
      deflateRecord(input.name, input.data, { level: 9, format: FORMAT.raw, chunked: true }),
      deflateRecord(input.name, input.data, { level: 1, chunked: true }),
      ...Object.values(STRATEGY).map((strategy) => deflateRecord(input.name, input.data, { level: 5, strategy })),
    ]);
    const { differences, guest } = compareWithNative('zlib', sandbox, records);
    expect(differences).toEqual([]);
    expect(guest.every((r) => r.status === Z.OK)).toBe(true);
    // Inflated back in the guest, auto-detecting zlib and gzip wrappers.
    const back = runGuest(sandbox, records.filter((_, i) => i % 8 === 0).map((r, i) => inflateRecord(r.label, guest[i * 8]!.data, FORMAT.auto, 2 ** 24)));
    back.forEach((r, i) => expect(Buffer.compare(r.data, small[i]!.data), small[i]!.name).toBe(0));
  });

  it('damaged streams fail with the same codes: truncated, corrupted, wrong format, too little room', () => {
    const text = small.find((i) => i.name.startsWith('text'))!;
    const good = compressed.native[inputs.indexOf(text) * LEVELS.length + LEVELS.indexOf(6)]!.data;
    const flipped = Uint8Array.from(good, (b, i) => (i === Math.floor(good.length / 2) ? b ^ 0x55 : b));
    const badChecksum = Uint8Array.from(good, (b, i) => (i === good.length - 1 ? b ^ 1 : b));
    const records = [
      uncompressRecord('truncated', good.subarray(0, good.length - 10), text.data.length),
      uncompressRecord('flipped', flipped, text.data.length),
      uncompressRecord('bad adler32', badChecksum, text.data.length),
      uncompressRecord('too little room', good, text.data.length - 1),
      uncompressRecord('garbage', new TextEncoder().encode('not a zlib stream at all'), 100),
      uncompressRecord('empty', new Uint8Array(), 100),
      inflateRecord('zlib stream as gzip', good, FORMAT.gzip, 2 ** 24),
      inflateRecord('zlib stream as raw', good, FORMAT.raw, 2 ** 24),
      inflateRecord('over the limit', good, FORMAT.zlib, 1000),
      inflateRecord('truncated', good.subarray(0, 100), FORMAT.auto, 2 ** 24),
    ];
    const { differences, guest } = compareWithNative('zlib', sandbox, records);
    expect(differences).toEqual([]);
    expect(guest.map((r) => r.status)).not.toContain(Z.OK);
  });

  it('crc32 and adler32, whole and combined from halves, through Batch and the single functions', () => {
    const { differences, guest } = compareWithNative('zlib', sandbox, inputs.map((i) => checksumsRecord(i.name, i.data)));
    expect(differences).toEqual([]);
    for (const input of small) {
      const [crc, adler, crcCombined, adlerCombined] = readChecksums(guest[inputs.indexOf(input)]!.data);
      expect([crcCombined, adlerCombined], input.name).toEqual([crc, adler]);
      expect(sandbox.call('Crc32', 'u32', input.data), input.name).toBe(crc);
      expect(sandbox.call('Adler32', 'u32', input.data), input.name).toBe(adler);
    }
  });

  it('Compress and Uncompress as single calls give the batch\'s bytes, and report zlib errors', () => {
    const input = small.find((i) => i.name.startsWith('text'))!;
    const i = inputs.indexOf(input) * LEVELS.length + LEVELS.indexOf(9);
    const out = sandbox.call('Compress', 'bytes', input.data, 9);
    expect(Buffer.compare(out, compressed.guest[i]!.data)).toBe(0);
    expect(Buffer.compare(sandbox.call('Uncompress', 'bytes', out, input.data.length), input.data)).toBe(0);
    expect(() => sandbox.call('Uncompress', 'bytes', out, 10)).toThrow(/zlib error -5/);
    expect(() => sandbox.call('Compress', 'bytes', input.data, 42)).toThrow(/zlib error -2/);
  });

  it('gzopen() on a guest, which has no files, fails with errno as natively for a missing file', () => {
    const missing = '/nonexistent-hyperlight-dir/file.gz';
    const { differences, guest } = compareWithNative('zlib', sandbox, [gzopenRecord(missing, 'rb')]);
    expect(differences).toEqual([]);
    expect(Buffer.from(guest[0]!.data).toString()).toContain(`errno=${constants.errno.ENOENT} `);
    // Writing fails too (the guest's file system is absent or read-only).
    const written = sandbox.call('GzOpen', 'string', '/tmp/out.gz', 'wb');
    expect(written).toMatch(new RegExp(`= NULL errno=(${constants.errno.ENOENT}|${constants.errno.EROFS}) `));
  });

  it('reports the same version and compile-time configuration', () => {
    const { differences, guest } = compareWithNative('zlib', sandbox, [{ op: ZLIB_OP.info, arg: 0, data: new Uint8Array(), label: 'info' }]);
    expect(differences).toEqual([]);
    expect(Buffer.from(guest[0]!.data).toString()).toMatch(/^1\.2\.13 /);
  });

  it('printed nothing on the way', () => {
    expect(printed).toEqual([]);
  });
});
