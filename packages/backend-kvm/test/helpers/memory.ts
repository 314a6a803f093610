import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/**
 * Mappings this package creates: guest memory and snapshot memfds
 * (`memfd:hyperlight-*`) and mapped snapshot files (`snapshot-*.bin` in the
 * tests). The JavaScript heap's own mappings come and go with garbage
 * collection, so counting every line of /proc/self/maps would be noise.
 */
export function mappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => /memfd:hyperlight-|\/snapshot-\d+\.bin/.test(line)).length;
}

/** Mappings of snapshot memfds (named by GuestMemory.snapshot()). */
export function snapshotMappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes('memfd:hyperlight-snapshot')).length;
}

/** Bytes allocated to each open snapshot memfd (`st_blocks`), in fd order. */
export function snapshotMemfdBytes(): number[] {
  const sizes: number[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // readdirSync's own fd, closed by now
    }
    if (target.startsWith('/memfd:hyperlight-snapshot')) sizes.push(statSync(`/proc/self/fd/${fd}`).blocks * 512);
  }
  return sizes;
}

/** This process's resident set size in bytes (/proc/self/smaps_rollup). */
export function rssBytes(): number {
  const match = /^Rss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!match) throw new Error('no Rss line in /proc/self/smaps_rollup');
  return Number(match[1]) * 1024;
}

/**
 * Fills `count` pages of `bytes` chosen by `seed` with bytes derived from
 * `seed` (never all zero), and returns the page indices.
 */
export function scribble(bytes: Uint8Array, count: number, seed: number): number[] {
  const pages = bytes.length / 4096;
  const touched: number[] = [];
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let i = 0; i < count; i++) {
    const page = next() % pages;
    const offset = page * 4096;
    for (let j = 0; j < 4096; j += 64) bytes[offset + j] = (next() & 0xfe) | 1;
    touched.push(page);
  }
  return touched;
}
