/** fetchPinnedSource and extractTarball against a local HTTP server and scratch cache directories. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { extractTarball, fetchPinnedSource, type PinnedSource, SourceFetchError, sourceCacheDir } from '../src/index.js';

const content = Buffer.from('pinned source bytes\n'.repeat(1000));
const sha256 = createHash('sha256').update(content).digest('hex');
/** Requests the server has seen, by path. */
const requests: string[] = [];
let server: Server;
let base = '';
let scratch = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/good') res.end(content);
    else if (req.url === '/tampered') res.end(Buffer.concat([content, Buffer.from('x')]));
    else if (req.url === '/cut') {
      // Declares the whole length, sends half, then drops the connection.
      res.writeHead(200, { 'content-length': String(content.length) });
      res.write(content.subarray(0, content.length / 2), () => res.destroy());
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  requests.length = 0;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = '';
});

function freshCache(): string {
  scratch = mkdtempSync(join(tmpdir(), 'hl-fetch-'));
  return join(scratch, 'cache');
}

const pin = (...paths: string[]): PinnedSource => ({ name: 'test source', fileName: 'src_1.0.orig.tar.gz', sha256, urls: paths.map((p) => `${base}${p}`) });

describe('fetchPinnedSource', () => {
  it('downloads from the first URL that serves the pinned bytes and caches the file', async () => {
    const cacheDir = freshCache();
    const file = await fetchPinnedSource(pin('/missing', '/good'), { cacheDir });
    expect(file).toBe(join(cacheDir, 'src_1.0.orig.tar.gz'));
    expect(readFileSync(file).equals(content)).toBe(true);
    expect(requests).toEqual(['/missing', '/good']);
  });

  it('uses a verified cached file without touching the network', async () => {
    const cacheDir = freshCache();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'src_1.0.orig.tar.gz'), content);
    expect(await fetchPinnedSource(pin('/good'), { cacheDir })).toBe(join(cacheDir, 'src_1.0.orig.tar.gz'));
    expect(requests).toEqual([]);
  });

  it('refetches a cached file whose hash is wrong', async () => {
    const cacheDir = freshCache();
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(join(cacheDir, 'src_1.0.orig.tar.gz'), 'corrupted');
    const lines: string[] = [];
    const file = await fetchPinnedSource(pin('/good'), { cacheDir, log: (l) => lines.push(l) });
    expect(readFileSync(file).equals(content)).toBe(true);
    expect(lines.join('\n')).toMatch(/fetching it again/);
  });

  it('rejects bytes with another hash, and says so', async () => {
    const cacheDir = freshCache();
    const error = await fetchPinnedSource(pin('/tampered'), { cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceFetchError);
    expect((error as SourceFetchError).reason).toBe('unavailable');
    expect((error as SourceFetchError).attempts).toEqual([`${base}/tampered: sha256 mismatch: got ${createHash('sha256').update(content).update('x').digest('hex')}, pinned ${sha256}`]);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('lists every URL and its failure when none works, and says where to put the file', async () => {
    const cacheDir = freshCache();
    const urls = ['/missing', '/tampered', '/cut'];
    const error = (await fetchPinnedSource(pin(...urls), { cacheDir }).catch((e: unknown) => e)) as SourceFetchError;
    expect(error).toBeInstanceOf(SourceFetchError);
    expect(error.attempts.map((a) => a.slice(0, a.indexOf(': ')))).toEqual(urls.map((u) => `${base}${u}`));
    expect(error.attempts[0]).toMatch(/HTTP 404/);
    for (const u of urls) expect(error.message).toContain(`${base}${u}`);
    expect(error.message).toContain(join(cacheDir, 'src_1.0.orig.tar.gz'));
    expect(error.message).toContain('HYPERLIGHT_SOURCE_CACHE');
  });

  it('never leaves a partial download in the cache', async () => {
    const cacheDir = freshCache();
    await expect(fetchPinnedSource(pin('/cut'), { cacheDir })).rejects.toThrow(SourceFetchError);
    expect(readdirSync(cacheDir)).toEqual([]);
    // The next attempt starts clean and succeeds.
    await fetchPinnedSource(pin('/cut', '/good'), { cacheDir });
    expect(readdirSync(cacheDir)).toEqual(['src_1.0.orig.tar.gz']);
  });

  it('rejects malformed pins before any download', async () => {
    const cacheDir = freshCache();
    for (const bad of [{ ...pin('/good'), sha256: 'abc' }, { ...pin('/good'), fileName: '../escape.tar.gz' }, pin()]) {
      const error = (await fetchPinnedSource(bad, { cacheDir }).catch((e: unknown) => e)) as SourceFetchError;
      expect(error.reason).toBe('bad-pin');
    }
    expect(requests).toEqual([]);
  });
});

describe('sourceCacheDir', () => {
  const saved = { cache: process.env['HYPERLIGHT_SOURCE_CACHE'], xdg: process.env['XDG_CACHE_HOME'] };
  afterEach(() => {
    for (const [key, value] of [['HYPERLIGHT_SOURCE_CACHE', saved.cache], ['XDG_CACHE_HOME', saved.xdg]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('is HYPERLIGHT_SOURCE_CACHE, else under XDG_CACHE_HOME, else under ~/.cache', () => {
    process.env['HYPERLIGHT_SOURCE_CACHE'] = '/somewhere/sources';
    expect(sourceCacheDir()).toBe('/somewhere/sources');
    delete process.env['HYPERLIGHT_SOURCE_CACHE'];
    process.env['XDG_CACHE_HOME'] = '/xdg';
    expect(sourceCacheDir()).toBe('/xdg/hyperlight-ts/sources');
    delete process.env['XDG_CACHE_HOME'];
    expect(sourceCacheDir()).toMatch(/\/\.cache\/hyperlight-ts\/sources$/);
  });
});

describe('extractTarball', () => {
  it('returns the single top-level directory', async () => {
    freshCache();
    mkdirSync(join(scratch, 'pkg-1.0', 'src'), { recursive: true });
    writeFileSync(join(scratch, 'pkg-1.0', 'src', 'a.c'), 'int a;\n');
    execFileSync('tar', ['-cjf', join(scratch, 'pkg.tar.bz2'), '-C', scratch, 'pkg-1.0']);
    const dir = await extractTarball(join(scratch, 'pkg.tar.bz2'), join(scratch, 'out'));
    expect(dir).toBe(join(scratch, 'out', 'pkg-1.0'));
    expect(readFileSync(join(dir, 'src', 'a.c'), 'utf8')).toBe('int a;\n');
    // Again into the same directory, next to something else: same answer.
    writeFileSync(join(scratch, 'out', 'other.txt'), 'x');
    expect(await extractTarball(join(scratch, 'pkg.tar.bz2'), join(scratch, 'out'))).toBe(dir);
  });

  it('rejects archives without exactly one top-level directory, and files that are not archives', async () => {
    freshCache();
    writeFileSync(join(scratch, 'a.txt'), 'a');
    writeFileSync(join(scratch, 'b.txt'), 'b');
    execFileSync('tar', ['-czf', join(scratch, 'flat.tar.gz'), '-C', scratch, 'a.txt', 'b.txt']);
    await expect(extractTarball(join(scratch, 'flat.tar.gz'), join(scratch, 'out1'))).rejects.toThrow(/one top-level directory/);
    await expect(extractTarball(join(scratch, 'a.txt'), join(scratch, 'out2'))).rejects.toMatchObject({ reason: 'bad-archive' });
  });
});
