/**
 * Pinned downloads of third-party sources (the C library the guests link, the
 * real-world libraries the tests build). A source is named by its sha256: the
 * file is fetched once from the first URL that serves exactly those bytes,
 * kept in a cache directory, and read from there ever after, so a build is
 * offline-reproducible once the cache is filled (or copied in by hand).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

/** A source file pinned by content. */
export interface PinnedSource {
  /** What it is, for messages (`musl 1.2.3`). */
  readonly name: string;
  /** The file name in the cache (`musl_1.2.3.orig.tar.gz`); a plain name, no directories. */
  readonly fileName: string;
  /** sha256 of the file, 64 lowercase hex digits. */
  readonly sha256: string;
  /** Where to get it, tried in order; the first that serves the pinned bytes wins. */
  readonly urls: readonly string[];
}

/** Options of {@link fetchPinnedSource}. */
export interface FetchPinnedSourceOptions {
  /** The cache directory; defaults to {@link sourceCacheDir}. */
  readonly cacheDir?: string;
  /** Receives one line per download attempt. */
  readonly log?: (line: string) => void;
}

/** Why a pinned source could not be provided; switch on `reason`, not on the message. */
export type SourceFetchFailure =
  /** The pin itself is malformed (bad sha256, a file name with directories, no URLs). */
  | 'bad-pin'
  /** No URL served the pinned bytes; `attempts` says what each one did. */
  | 'unavailable'
  /** `tar` failed or the archive does not hold exactly one top-level directory. */
  | 'bad-archive';

/**
 * A pinned source could not be fetched or extracted. For `unavailable`, the
 * message lists every URL tried and what went wrong with it, and says where
 * to put the file by hand for an offline build.
 */
export class SourceFetchError extends Error {
  override readonly name = 'SourceFetchError';

  /**
   * @param reason - which step failed
   * @param message - what failed and what to do about it
   * @param attempts - one line per URL tried (`unavailable` only)
   */
  constructor(readonly reason: SourceFetchFailure, message: string, readonly attempts: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
  }
}

/** A download larger than this is not the pinned file (the largest pin is ~1.2 MB). */
const MAX_DOWNLOAD_SIZE = 256 * 1024 * 1024;
/** Per-URL limit for the whole download, so a stalled mirror moves on to the next URL. */
const DOWNLOAD_TIMEOUT_MS = 120_000;
/** Marks files being written; they never count as cache entries. */
const PARTIAL_SUFFIX = '.partial';

/**
 * @returns the directory that caches pinned sources: `$HYPERLIGHT_SOURCE_CACHE`,
 * else `$XDG_CACHE_HOME/hyperlight-ts/sources`, else `~/.cache/hyperlight-ts/sources`.
 */
export function sourceCacheDir(): string {
  const explicit = process.env['HYPERLIGHT_SOURCE_CACHE'];
  if (explicit) return explicit;
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg ? xdg : join(homedir(), '.cache'), 'hyperlight-ts', 'sources');
}

/**
 * Provides a pinned source file, verified against its sha256. A verified copy
 * in the cache is used without touching the network; otherwise the URLs are
 * tried in order, each download is hashed as it streams into a temporary file,
 * and only a file with the pinned hash is moved into the cache.
 *
 * @returns the path of the verified file in the cache
 * @throws {@link SourceFetchError} `bad-pin` for a malformed pin; `unavailable`
 * when no URL served the pinned bytes (the message lists each URL's failure)
 * @example
 * ```ts
 * const tarball = await fetchPinnedSource({ name: 'zlib 1.2.13', fileName: 'zlib_1.2.13.dfsg.orig.tar.bz2', sha256: '71fe…', urls: ['http://deb.debian.org/…'] });
 * ```
 */
export async function fetchPinnedSource(source: PinnedSource, options: FetchPinnedSourceOptions = {}): Promise<string> {
  checkPin(source);
  const cacheDir = options.cacheDir ?? sourceCacheDir();
  const target = join(cacheDir, source.fileName);
  const cachedHash = await sha256OfFile(target).catch(() => undefined);
  if (cachedHash === source.sha256) return target;
  if (cachedHash !== undefined) options.log?.(`${source.name}: cached ${target} has sha256 ${cachedHash}, fetching it again`);

  await mkdir(cacheDir, { recursive: true });
  await removeStalePartials(cacheDir, source.fileName);
  const attempts: string[] = [];
  for (const url of source.urls) {
    options.log?.(`${source.name}: fetching ${url}`);
    const partial = join(cacheDir, `${source.fileName}.${process.pid}-${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`);
    try {
      const hash = await download(url, partial);
      if (hash !== source.sha256) throw new Error(`sha256 mismatch: got ${hash}, pinned ${source.sha256}`);
      await rename(partial, target);
      return target;
    } catch (e) {
      attempts.push(`${url}: ${describe(e)}`);
    } finally {
      await rm(partial, { force: true });
    }
  }
  throw new SourceFetchError(
    'unavailable',
    `could not fetch ${source.name} (${source.fileName}, sha256 ${source.sha256}) from any of its URLs:\n` +
      attempts.map((a) => `  ${a}`).join('\n') +
      `\nFor an offline build, put the file at ${target} (the cache directory is set by HYPERLIGHT_SOURCE_CACHE).`,
    attempts,
  );
}

/**
 * Extracts a tarball (`.tar`, `.tar.gz`, `.tar.bz2`, `.tar.xz`: the system
 * `tar` detects the compression) into `destDir`, which is created if needed
 * and may already hold other things (an earlier extraction of the same
 * archive is overwritten).
 *
 * @returns the path of the archive's single top-level directory
 * @throws {@link SourceFetchError} `bad-archive` when `tar` fails or the archive
 * does not unpack into exactly one top-level directory
 */
export async function extractTarball(file: string, destDir: string): Promise<string> {
  const listing = await tar(['-tf', file]);
  const topLevel = new Set(listing.split('\n').filter(Boolean).map((entry) => entry.replace(/^\.\//, '').split('/')[0]));
  topLevel.delete('');
  const [top] = topLevel;
  if (topLevel.size !== 1 || top === undefined || !listing.includes(`${top}/`)) {
    throw new SourceFetchError('bad-archive', `${basename(file)} should unpack into one top-level directory, it has: ${[...topLevel].join(', ') || 'nothing'}`);
  }
  await mkdir(destDir, { recursive: true });
  await tar(['-xf', file, '-C', destDir, '--no-same-owner']);
  return join(destDir, top);
}

function checkPin(source: PinnedSource): void {
  const problem = !/^[0-9a-f]{64}$/.test(source.sha256)
    ? 'sha256 must be 64 lowercase hex digits'
    : !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(source.fileName) || source.fileName.endsWith(PARTIAL_SUFFIX)
      ? `file name ${JSON.stringify(source.fileName)} must be a plain file name`
      : source.urls.length === 0
        ? 'no URLs'
        : undefined;
  if (problem) throw new SourceFetchError('bad-pin', `bad pin for ${source.name}: ${problem}`);
}

/** Streams `url` into `file` (created exclusively), hashing it on the way; returns the sha256. */
async function download(url: string, file: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > MAX_DOWNLOAD_SIZE) throw new Error(`${declared} bytes is more than any pinned source (limit ${MAX_DOWNLOAD_SIZE})`);
  const hash = createHash('sha256');
  const out = await open(file, 'wx');
  try {
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_DOWNLOAD_SIZE) throw new Error(`more than ${MAX_DOWNLOAD_SIZE} bytes, larger than any pinned source`);
      hash.update(chunk);
      await out.write(chunk);
    }
    await out.sync();
  } finally {
    await out.close();
  }
  return hash.digest('hex');
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Deletes temporary files left by interrupted downloads of `fileName`. Only old
 * ones: a recent one may belong to another build fetching into the same cache.
 */
async function removeStalePartials(cacheDir: string, fileName: string): Promise<void> {
  const names = (await readdir(cacheDir)).filter((n) => n.startsWith(`${fileName}.`) && n.endsWith(PARTIAL_SUFFIX));
  const cutoffMs = Date.now() - DOWNLOAD_TIMEOUT_MS * 2;
  for (const n of names) {
    const info = await stat(join(cacheDir, n)).catch(() => undefined);
    if (info && info.mtimeMs < cutoffMs) await rm(join(cacheDir, n), { force: true });
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  return `${e.message}${cause}`;
}

/** Runs the system `tar`; returns its stdout. */
function tar(args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const fail = (why: string): void => reject(new SourceFetchError('bad-archive', `tar ${args.join(' ')} failed: ${why}`));
    const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-4096);
    });
    child.on('error', (e) => fail(e.message));
    child.on('close', (code) => (code === 0 ? resolvePromise(Buffer.concat(out).toString('utf8')) : fail(`exit ${code}: ${stderr.trim()}`)));
  });
}
