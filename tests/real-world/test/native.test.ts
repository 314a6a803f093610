/**
 * Host-side checks that need no hypervisor: the sources are the pinned ones,
 * and the native builds are right by the libraries' own standards (cJSON's
 * expected outputs, zlib's streams as Node's zlib reads them) and
 * deterministic, so they can serve as the reference for the guests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import type { PinnedSource } from '@hyperlight-ts/guest-rs';
import { describe, expect, it } from 'vitest';
import { artifacts, PACKAGE_DIR, runNative, type LibraryId } from './support/artifacts.js';
import type { BatchResult } from './support/batch.js';
import { parseRecord, reportSection, VERSION_RECORD } from './support/cjson-ops.js';
import { cjsonOwnInputs, generatedJson } from './support/json-corpus.js';
import { adler32 } from './support/adler32.js';
import { zlibInputs } from './support/zlib-corpus.js';
import { checksumsRecord, compressRecord, deflateRecord, FORMAT, readChecksums, Z, ZLIB_OP } from './support/zlib-ops.js';

const LIBRARIES: readonly LibraryId[] = ['cjson', 'zlib'];

/** Status and sha256 of each result: cheap to compare (deep equality of big byte arrays is slow). */
function digests(results: readonly BatchResult[]): string[] {
  return results.map((r) => `${r.status} ${createHash('sha256').update(r.data).digest('hex')}`);
}

function pin(id: LibraryId): PinnedSource {
  return JSON.parse(readFileSync(join(PACKAGE_DIR, 'sources', `${id}.json`), 'utf8')) as PinnedSource;
}

describe('pinned sources', () => {
  for (const id of LIBRARIES) {
    it(`${id}: the build extracted exactly the pinned tarball, fetched from Debian's pool first`, () => {
      const source = pin(id);
      expect(source.urls[0]).toMatch(/^http:\/\/deb\.debian\.org\/debian\/pool\//);
      expect(artifacts(id).tarballSha256).toBe(source.sha256);
    });
  }
});

describe('the libraries\' own build systems', () => {
  it('chose the same flags for the guest as for the host, cJSON\'s strict defaults included', () => {
    const cjson = artifacts('cjson');
    const zlib = artifacts('zlib');
    expect(cjson.guestFlags).toBe(cjson.nativeFlags);
    expect(zlib.guestFlags).toBe(zlib.nativeFlags);
    for (const flag of ['-std=c89', '-pedantic', '-Werror', '-Wconversion', '-fstack-protector-strong']) expect(cjson.nativeFlags.split(' ')).toContain(flag);
    expect(zlib.nativeFlags).toBe('-O3 -D_LARGEFILE64_SOURCE=1 -DHAVE_HIDDEN');
  });

  it('left no %fs access in the guests, cJSON\'s -fstack-protector-strong included (the guard is global)', () => {
    for (const id of LIBRARIES) {
      const disassembly = execFileSync('objdump', ['-d', '--no-show-raw-insn', artifacts(id).guest!], { maxBuffer: 256 * 1024 * 1024 }).toString();
      if (id === 'cjson') expect(disassembly).toContain('__stack_chk_fail'); // the protector is in there
      expect(disassembly.split('\n').filter((line) => line.includes('%fs:')), id).toEqual([]);
    }
  });
});

describe('native cJSON', () => {
  const corpus = artifacts('cjson').corpus;

  it('prints cJSON\'s own test inputs exactly as its .expected files say', () => {
    const dir = join(corpus, 'tests/inputs');
    const names = readdirSync(dir).filter((f) => existsSync(join(dir, `${f}.expected`)));
    expect(names.length).toBeGreaterThan(5);
    const results = runNative('cjson', names.map((f) => parseRecord({ name: f, data: readFileSync(join(dir, f)) })));
    names.forEach((name, i) => {
      const report = Buffer.from(results[i]!.data).toString('utf8');
      expect(reportSection(report, 'formatted'), name).toBe(readFileSync(join(dir, `${name}.expected`), 'utf8'));
    });
  });

  it('is version 1.7.15', () => {
    expect(Buffer.from(runNative('cjson', [VERSION_RECORD])[0]!.data).toString()).toBe('1.7.15');
  });

  it('gives the same reports on every run', () => {
    const records = [...cjsonOwnInputs(corpus), ...generatedJson()].map(parseRecord);
    expect(digests(runNative('cjson', records))).toEqual(digests(runNative('cjson', records)));
  });
});

describe('native zlib', () => {
  const inputs = zlibInputs(artifacts('zlib').corpus, { large: false });

  it('writes streams that Node\'s zlib decodes back to the input, at every level', () => {
    const records = inputs.flatMap((input) => [-1, 0, 1, 6, 9].map((level) => compressRecord(input.name, input.data, level)));
    const results = runNative('zlib', records);
    results.forEach((r, i) => {
      expect(r.status, records[i]!.label).toBe(Z.OK);
      expect(Buffer.compare(inflateSync(r.data), records[i]!.data), records[i]!.label).toBe(0);
    });
  });

  it('writes gzip and raw streams Node\'s zlib decodes', () => {
    const records = inputs.flatMap((input) => [
      deflateRecord(input.name, input.data, { level: 6, format: FORMAT.gzip }),
      deflateRecord(input.name, input.data, { level: 1, format: FORMAT.raw, chunked: true }),
    ]);
    const results = runNative('zlib', records);
    results.forEach((r, i) => {
      const decode = i % 2 === 0 ? gunzipSync : inflateRawSync;
      expect(Buffer.compare(decode(r.data), records[i]!.data), records[i]!.label).toBe(0);
    });
  });

  it('computes the checksums Node computes', () => {
    const results = runNative('zlib', inputs.map((input) => checksumsRecord(input.name, input.data)));
    inputs.forEach((input, i) => {
      const [crc, adler, crcCombined, adlerCombined] = readChecksums(results[i]!.data);
      expect([crc, crcCombined], input.name).toEqual([crc32(input.data), crc32(input.data)]);
      expect([adler, adlerCombined], input.name).toEqual([adler32(input.data), adler32(input.data)]);
    });
  });

  it('is version 1.2.13 and gives the same output on every run', () => {
    const info = runNative('zlib', [{ op: ZLIB_OP.info, arg: 0, data: new Uint8Array(), label: 'info' }]);
    expect(Buffer.from(info[0]!.data).toString()).toMatch(/^1\.2\.13 [0-9a-f]+$/);
    const records = inputs.map((input) => compressRecord(input.name, input.data, 9));
    expect(digests(runNative('zlib', records))).toEqual(digests(runNative('zlib', records)));
  });
});
