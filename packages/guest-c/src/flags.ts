/**
 * Compiler and linker flags for C guests, in one place: the library build
 * (tools/build-library.mjs), buildCGuest and the CLI's --print-* options all
 * read them from here.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { GuestBuildError } from './guest-build-error.js';

const run = promisify(execFile);

/** Optimisation level: `true` is `-O2`, `false` is `-O0`. */
export type OptimizeLevel = boolean | 0 | 1 | 2 | 3 | 's' | 'g';

/** Where the package's headers and library live. */
export interface GuestCPaths {
  /** Package root. */
  readonly root: string;
  /** `include/` (hyperlight/guest.h, hyperlight/abi.h). */
  readonly includeDir: string;
  /** `libc/include/` (string.h, stdio.h, ...). */
  readonly libcIncludeDir: string;
  /** The prebuilt `libhyperlight_guest.a`. */
  readonly library: string;
}

/**
 * @returns the package's paths. Both `src/` (tests) and `dist/` (published)
 * sit one level below the package root.
 */
export function guestCPaths(): GuestCPaths {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  return {
    root,
    includeDir: join(root, 'include'),
    libcIncludeDir: join(root, 'libc', 'include'),
    library: join(root, 'dist', 'lib', 'libhyperlight_guest.a'),
  };
}

/** @returns the C compiler to use: the `cc` argument, else `$CC`, else `gcc`. */
export function defaultCompiler(cc?: string): string {
  return cc ?? process.env['CC'] ?? 'gcc';
}

const includeDirCache = new Map<string, Promise<string>>();

/**
 * @returns the compiler's own header directory (stdint.h, stddef.h, stdarg.h,
 * float.h, stdbool.h), which stays visible under `-nostdinc`.
 * @throws GuestBuildError when the compiler cannot be run
 */
export function compilerIncludeDir(cc: string): Promise<string> {
  let dir = includeDirCache.get(cc);
  if (!dir) {
    dir = run(cc, ['-print-file-name=include']).then(
      ({ stdout }) => stdout.trim(),
      (e: unknown) => {
        includeDirCache.delete(cc);
        throw new GuestBuildError(`cannot run the C compiler "${cc}" (set CC or pass cc)`, [cc, '-print-file-name=include'], String(e), { cause: e });
      },
    );
    includeDirCache.set(cc, dir);
  }
  return dir;
}

/** `-O` flag for a level. */
export function optimizeFlag(level: OptimizeLevel = true): string {
  if (level === true) return '-O2';
  if (level === false) return '-O0';
  return `-O${level}`;
}

/** Options of {@link guestCFlags}. */
export interface GuestCFlagOptions {
  /** C compiler (default `$CC`, else `gcc`). */
  cc?: string;
  /** Optimisation (default `true` = `-O2`). */
  optimize?: OptimizeLevel;
  /** Emit debug info (`-g`). */
  debug?: boolean;
  /** Keep frame pointers, for stack traces in memory profiles. */
  framePointers?: boolean;
}

/** Flags that keep the frame-pointer chain intact (leaf functions included). */
export const FRAME_POINTER_FLAGS: readonly string[] = ['-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer'];

/**
 * Flags every guest translation unit is compiled with.
 *
 * - `-ffreestanding -nostdinc` + our libc headers: no glibc headers leak in.
 * - `-fPIE`: the image is a static PIE, relocated by the host.
 * - `-mno-red-zone`: nothing may live below rsp (kept for exception paths
 *   that might one day run on the guest stack).
 * - `-fno-stack-protector`: no TLS canary (there is no fs base).
 * - `-fstack-clash-protection`: large frames probe each page, so overflow
 *   always hits the guard page instead of jumping over it.
 * - `-fno-asynchronous-unwind-tables`: no .eh_frame; guests never unwind.
 * - `-ffunction-sections -fdata-sections`: lets `--gc-sections` drop unused code.
 * - with `framePointers`: `-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer`,
 *   so memory-profile stacks (docs/tracing-format.md) can walk every frame.
 */
export async function guestCFlags(options: GuestCFlagOptions = {}): Promise<string[]> {
  const paths = guestCPaths();
  const gccInclude = await compilerIncludeDir(defaultCompiler(options.cc));
  return [
    optimizeFlag(options.optimize),
    ...(options.debug ? ['-g'] : []),
    '-ffreestanding',
    '-fno-builtin',
    '-nostdinc',
    // Joined form (-isystem/dir): CMake de-duplicates repeated separate
    // "-isystem" words. Our libc first: its limits.h replaces gcc's hosted one.
    `-isystem${paths.libcIncludeDir}`,
    `-isystem${gccInclude}`,
    `-isystem${paths.includeDir}`,
    '-fPIE',
    '-mno-red-zone',
    '-fno-stack-protector',
    '-fstack-clash-protection',
    '-fno-asynchronous-unwind-tables',
    '-ffunction-sections',
    '-fdata-sections',
    ...(options.framePointers ? FRAME_POINTER_FLAGS : []),
  ];
}

/**
 * Linker flags (before the objects). The result is a static PIE: `ET_DYN`,
 * no `PT_INTERP`, only `R_X86_64_RELATIVE` relocations, entry `hl_entry`.
 * No link script is needed: `-z separate-code` and 4 KiB max page size make
 * GNU ld put the R, RX, R and RW segments on pages of their own, starting at
 * address 0, which is what the host's loader maps.
 */
export function guestLdFlags(): string[] {
  return [
    '-nostdlib',
    '-nostartfiles',
    '-static-pie',
    '-Wl,--entry=hl_entry',
    '-Wl,--undefined=hl_entry',
    '-Wl,--no-dynamic-linker',
    '-Wl,--gc-sections',
    '-Wl,-z,noexecstack',
    '-Wl,-z,separate-code',
    '-Wl,-z,max-page-size=4096',
  ];
}

/** Libraries (after the objects): the guest library, then libgcc for compiler helpers. */
export function guestLibs(): string[] {
  return [guestCPaths().library, '-lgcc'];
}

/** Quotes a flag for a POSIX shell / Makefile when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** @returns true when the prebuilt library exists. */
export function guestLibraryBuilt(): boolean {
  return existsSync(guestCPaths().library);
}
