/**
 * Inputs for zlib, of several kinds and sizes: empty, tiny, zeros, text,
 * seeded random bytes, zlib's own source and documentation files from the
 * tarball, and a ~1 MiB mix of them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedInput } from './json-corpus.js';
import { randomBytes, seededRandom } from './seeded-random.js';

/** Seeded English-like text: words from a small vocabulary with punctuation and line breaks. */
function seededText(seed: number, length: number): Uint8Array {
  const next = seededRandom(seed);
  const words = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'compression', 'window', 'Huffman', 'literal', 'distance', 'zlib'];
  let s = '';
  while (s.length < length) s += words[Math.floor(next() * words.length)] + (next() < 0.1 ? '.\n' : ' ');
  return new TextEncoder().encode(s.slice(0, length));
}

/** `length` bytes repeating `pattern`. */
function repeated(pattern: Uint8Array, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => pattern[i % pattern.length] ?? 0);
}

/** The files of the tarball that the build copied into the corpus (tools/libraries.mjs), by name. */
export function tarballFiles(corpus: string): NamedInput[] {
  return readdirSync(corpus, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((f) => ({ name: `tarball/${f.slice(corpus.length + 1)}`, data: new Uint8Array(readFileSync(f)) }));
}

/** About 1 MiB: the tarball files, text and random runs interleaved, cut to exactly 1 MiB. */
function mixed(files: readonly NamedInput[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (let round = 0; at < length; round++) {
    for (const piece of [...files.map((f) => f.data), seededText(round, 20_000), randomBytes(round, 4096)]) {
      const n = Math.min(piece.length, length - at);
      out.set(piece.subarray(0, n), at);
      at += n;
    }
  }
  return out;
}

/** Every zlib input; `large` includes the ~1 MiB ones. */
export function zlibInputs(corpus: string, { large }: { large: boolean }): NamedInput[] {
  const files = tarballFiles(corpus);
  const small: NamedInput[] = [
    { name: 'empty', data: new Uint8Array() },
    { name: 'one-byte', data: Uint8Array.of(0x41) },
    { name: 'zeros-64k', data: new Uint8Array(65536) },
    { name: 'pattern-100k', data: repeated(new TextEncoder().encode('abcabd'), 100_000) },
    { name: 'text-200k', data: seededText(1, 200_000) },
    { name: 'random-64k', data: randomBytes(2, 65536) },
    { name: 'random-7', data: randomBytes(3, 7) },
    ...files,
  ];
  if (!large) return small;
  return [...small, { name: 'mixed-1m', data: mixed(files, 1024 * 1024) }, { name: 'random-1m', data: randomBytes(4, 1024 * 1024) }];
}
