/**
 * Where the package's prebuilt native guest libraries live. `pnpm build`
 * produces them (tools/build-libc.mjs, tools/build-runtime-archive.mjs); the C
 * guest build helper (`@hyperlight-ts/guest-c`) and Rust guests that link the
 * C library read these paths.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths of the native guest libraries shipped in `dist/`. */
export interface GuestNativeLibraries {
  /** Package root. */
  readonly root: string;
  /** The C library's headers (musl, configured for guests): `stdio.h`, `math.h`, ... */
  readonly libcIncludeDir: string;
  /** The C library (`libc.a`, musl with its system calls routed to the guest runtime). */
  readonly libcArchive: string;
  /** The guest runtime with its C API (`libhyperlight_guest.a`), a Rust staticlib for C guests. */
  readonly runtimeArchive: string;
}

/**
 * @returns the absolute paths of the native guest libraries. Both `src/`
 * (tests) and `dist/` (published) sit one level below the package root.
 */
export function guestNativeLibraries(): GuestNativeLibraries {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return {
    root,
    libcIncludeDir: join(root, 'dist', 'libc', 'include'),
    libcArchive: join(root, 'dist', 'libc', 'lib', 'libc.a'),
    runtimeArchive: join(root, 'dist', 'lib', 'libhyperlight_guest.a'),
  };
}

/** @returns the libraries of {@link guestNativeLibraries} that are missing (empty when all are built). */
export function missingNativeLibraries(): string[] {
  const libs = guestNativeLibraries();
  return [libs.libcArchive, join(libs.libcIncludeDir, 'stdio.h'), libs.runtimeArchive].filter((p) => !existsSync(p));
}
