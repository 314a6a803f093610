/**
 * Reads an npm tarball (gzipped ustar, every path under `package/`) without
 * unpacking it: each regular file's path, mode and contents.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One regular file of a tarball. */
export interface TarEntry {
  /** Path inside the package (the `package/` prefix removed). */
  readonly path: string;
  /** Permission bits. */
  readonly mode: number;
  /** Contents. */
  readonly data: Buffer;
}

const BLOCK_BYTES = 512;

/** A NUL-terminated field of a header, as text. */
function field(header: Buffer, offset: number, length: number): string {
  const raw = header.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

/**
 * @param tarball - path of a `.tgz`
 * @returns its regular files, in archive order
 * @throws Error on a truncated archive or a path outside `package/`
 */
export function readTarball(tarball: string): TarEntry[] {
  const bytes = gunzipSync(readFileSync(tarball));
  const entries: TarEntry[] = [];
  for (let offset = 0; offset + BLOCK_BYTES <= bytes.length; ) {
    const header = bytes.subarray(offset, offset + BLOCK_BYTES);
    if (header.every((b) => b === 0)) break;
    const name = field(header, 0, 100);
    const prefix = field(header, 345, 155);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = offset + BLOCK_BYTES;
    if (start + size > bytes.length) throw new Error(`${tarball}: truncated at ${name}`);
    const fullName = prefix ? `${prefix}/${name}` : name;
    if (type === '0' || type === '\0') {
      if (!fullName.startsWith('package/')) throw new Error(`${tarball}: ${fullName} is outside package/`);
      entries.push({ path: fullName.slice('package/'.length), mode: parseInt(field(header, 100, 8).trim(), 8), data: bytes.subarray(start, start + size) });
    }
    offset = start + Math.ceil(size / BLOCK_BYTES) * BLOCK_BYTES;
  }
  return entries;
}
