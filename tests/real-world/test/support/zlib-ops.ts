/** Records for the zlib logic (src/zlib/logic.h): op codes and argument packing. */
import type { BatchRecord } from './batch.js';

/** Op codes of src/zlib/logic.h. */
export const ZLIB_OP = { compress: 1, deflate: 2, uncompress: 3, inflate: 4, checksums: 5, gzopen: 6, info: 7 } as const;

/** zlib's return codes (zlib.h). */
export const Z = { OK: 0, STREAM_END: 1, NEED_DICT: 2, ERRNO: -1, STREAM_ERROR: -2, DATA_ERROR: -3, MEM_ERROR: -4, BUF_ERROR: -5 } as const;

/** zlib's strategies (zlib.h). */
export const STRATEGY = { default: 0, filtered: 1, huffmanOnly: 2, rle: 3, fixed: 4 } as const;

/** Stream formats of logic.h. */
export const FORMAT = { zlib: 0, gzip: 1, raw: 2, auto: 3 } as const;

/** Options of a deflate() record. */
export interface DeflateOptions {
  /** 0-9, or -1 for Z_DEFAULT_COMPRESSION. */
  readonly level: number;
  readonly strategy?: number;
  readonly format?: number;
  /** Feed input and take output in small odd-sized chunks. */
  readonly chunked?: boolean;
}

/** A compress2() record. */
export function compressRecord(label: string, data: Uint8Array, level: number): BatchRecord {
  return { op: ZLIB_OP.compress, arg: level, data, label: `compress ${label} level ${level}` };
}

/** A deflate() record. */
export function deflateRecord(label: string, data: Uint8Array, o: DeflateOptions): BatchRecord {
  const arg = (o.level < 0 ? 15 : o.level) | ((o.strategy ?? 0) << 4) | ((o.format ?? FORMAT.zlib) << 8) | (o.chunked ? 0x400 : 0);
  return { op: ZLIB_OP.deflate, arg, data, label: `deflate ${label} ${JSON.stringify(o)}` };
}

/** An uncompress() record allowing `outSize` bytes. */
export function uncompressRecord(label: string, data: Uint8Array, outSize: number): BatchRecord {
  return { op: ZLIB_OP.uncompress, arg: outSize, data, label: `uncompress ${label} into ${outSize}`, responseBytes: outSize };
}

/** An inflate() record of `format` allowing `limit` bytes of output. */
export function inflateRecord(label: string, data: Uint8Array, format: number, limit: number): BatchRecord {
  return { op: ZLIB_OP.inflate, arg: (format << 30) | limit, data, label: `inflate ${label} format ${format} limit ${limit}`, responseBytes: limit };
}

/** A checksums record (crc32, adler32, and both combined from halves). */
export function checksumsRecord(label: string, data: Uint8Array): BatchRecord {
  return { op: ZLIB_OP.checksums, arg: 0, data, label: `checksums ${label}` };
}

/** A gzopen() record. */
export function gzopenRecord(path: string, mode: string): BatchRecord {
  return { op: ZLIB_OP.gzopen, arg: 0, data: new TextEncoder().encode(`${path}\n${mode}`), label: `gzopen ${path} ${mode}` };
}

/** @returns the four u32s of a checksums result: crc32, adler32, combined crc32, combined adler32. */
export function readChecksums(data: Uint8Array): number[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return [0, 4, 8, 12].map((at) => view.getUint32(at, true));
}
