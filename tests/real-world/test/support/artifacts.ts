/**
 * What `pnpm build` left in dist/ (tools/build.mjs): the manifest, the native
 * CLIs and the guests of each library, and the corpora from the tarballs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeBatch, encodeBatch, type BatchRecord, type BatchResult } from './batch.js';

/** The package's root directory. */
export const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST_DIR = join(PACKAGE_DIR, 'dist');

/** The libraries the build produces. */
export type LibraryId = 'cjson' | 'zlib';

/** One library's entry of dist/manifest.json. */
export interface LibraryArtifacts {
  readonly name: string;
  /** sha256 of the tarball the build extracted, hashed by the build. */
  readonly tarballSha256: string;
  /** Absolute paths (the manifest holds them relative to dist/). */
  readonly native: string;
  readonly corpus: string;
  readonly nativeBuildMs: number;
  /** The compiler flags the library's own build system chose for the native build. */
  readonly nativeFlags: string;
  /** Absent while only the native half is built (the guest build failed or has not run). */
  readonly guest?: string;
  readonly guestBuildMs?: number;
  readonly guestFlags?: string;
}

/** @returns the built artefacts of `id`. @throws Error saying to run the build when they are missing. */
export function artifacts(id: LibraryId): LibraryArtifacts {
  const file = join(DIST_DIR, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm --filter @hyperlight-ts/real-world-tests build`);
  const entry = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, LibraryArtifacts>)[id];
  if (!entry) throw new Error(`${file} has no ${id} entry: rebuild the package`);
  const guest = entry.guest === undefined ? undefined : join(DIST_DIR, entry.guest);
  return { ...entry, native: join(DIST_DIR, entry.native), corpus: join(DIST_DIR, entry.corpus), guest };
}

/** Largest response the native CLI may write. */
const MAX_NATIVE_OUTPUT_BYTES = 1024 * 1024 * 1024;

/** Runs records through a library's native CLI. @throws Error when it exits non-zero. */
export function runNative(id: LibraryId, records: readonly BatchRecord[]): BatchResult[] {
  const output = execFileSync(artifacts(id).native, [], { input: encodeBatch(records), maxBuffer: MAX_NATIVE_OUTPUT_BYTES });
  return decodeBatch(new Uint8Array(output.buffer, output.byteOffset, output.byteLength));
}
