/**
 * Compiler and linker flags for C guests, in one place: `hyperlight-cc`,
 * buildCGuest, the build CLI's --print-* options, link/hyperlight.mk and
 * link/hyperlight-toolchain.cmake all take them from here
 * (compiler-command.ts puts them around a compiler command line).
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GUEST_ENTRY_SYMBOL, guestNativeLibraries, missingNativeLibraries } from '@hyperlight-ts/guest-rs';

import { GuestBuildError } from './guest-build-error.js';

const run = promisify(execFile);

/** Optimisation level: `true` is `-O2`, `false` is `-O0`. */
export type OptimizeLevel = boolean | 0 | 1 | 2 | 3 | 's' | 'g';

/** Where the headers and libraries of a C guest live. */
export interface GuestCPaths {
  /** This package's root. */
  readonly root: string;
  /** This package's `include/` (`hyperlight/guest.h`, `hyperlight/trace.h`, `hyperlight/abi.h`). */
  readonly includeDir: string;
  /** The C library's headers (musl, from `@hyperlight-ts/guest-rs`). */
  readonly libcIncludeDir: string;
  /** The C library, `libc.a` (musl, from `@hyperlight-ts/guest-rs`). */
  readonly libcArchive: string;
  /** The guest runtime with its C API, `libhyperlight_guest.a` (from `@hyperlight-ts/guest-rs`). */
  readonly runtimeArchive: string;
}

/**
 * @returns the paths of this package (both `src/` and `dist/` sit one level
 * below its root) and of the native libraries `@hyperlight-ts/guest-rs` builds.
 */
export function guestCPaths(): GuestCPaths {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { libcIncludeDir, libcArchive, runtimeArchive } = guestNativeLibraries();
  return { root, includeDir: join(root, 'include'), libcIncludeDir, libcArchive, runtimeArchive };
}

/**
 * @throws GuestBuildError naming the missing files when the runtime or libc
 * archives (or the libc headers) have not been built
 */
export function requireGuestLibraries(): void {
  const missing = missingNativeLibraries();
  if (missing.length > 0) {
    throw new GuestBuildError(
      `the guest libraries are not built (missing ${missing.join(', ')}); build them with: pnpm --filter @hyperlight-ts/guest-rs build`,
    );
  }
}

/**
 * @returns the real C compiler: the `cc` argument, else `$HYPERLIGHT_CC`,
 * else `gcc`. `$CC` is not read: under Make it is often `hyperlight-cc` itself.
 */
export function defaultCompiler(cc?: string): string {
  return cc ?? process.env['HYPERLIGHT_CC'] ?? 'gcc';
}

/**
 * Set in the real compiler's environment. `hyperlight-cc` refuses to run
 * under it: that happens only when `$HYPERLIGHT_CC` or `--cc` names
 * `hyperlight-cc` itself, which would otherwise call itself forever.
 */
export const WRAPPED_ENV = 'HYPERLIGHT_CC_WRAPPED';

/** @returns the environment the real compiler runs in: this process's, plus {@link WRAPPED_ENV}. */
export function realCompilerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, [WRAPPED_ENV]: '1' };
}

const includeDirCache = new Map<string, Promise<string>>();

/**
 * @returns the compiler's own header directory (intrinsics, `stdatomic.h`,
 * ...), which `-nostdinc` would otherwise hide.
 * @throws GuestBuildError when the compiler cannot be run
 */
export function compilerIncludeDir(cc: string): Promise<string> {
  let dir = includeDirCache.get(cc);
  if (!dir) {
    dir = run(cc, ['-print-file-name=include'], { env: realCompilerEnv() }).then(
      ({ stdout }) => stdout.trim(),
      (e: unknown) => {
        includeDirCache.delete(cc);
        throw new GuestBuildError(`cannot run the C compiler "${cc}" (set HYPERLIGHT_CC or pass cc)`, [cc, '-print-file-name=include'], String(e), { cause: e });
      },
    );
    includeDirCache.set(cc, dir);
  }
  return dir;
}

/** @returns the `-O` flag of a level. */
export function optimizeFlag(level: OptimizeLevel = true): string {
  if (level === true) return '-O2';
  if (level === false) return '-O0';
  return `-O${level}`;
}

/** Flags that keep the frame-pointer chain intact (leaf functions included). */
export const FRAME_POINTER_FLAGS: readonly string[] = ['-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer'];

/**
 * Flags placed after the user's: a user's `-fstack-protector*` then reads
 * musl's global `__stack_chk_guard` (seeded by `__hl_libc_init`) instead of
 * `%fs:0x28` (guests have no thread pointer).
 */
export const GUEST_TRAILING_CFLAGS: readonly string[] = ['-mstack-protector-guard=global'];

/**
 * Flags every guest translation unit is compiled with, before the user's.
 * Hosted C (the compiler may use builtins), against musl's headers only:
 *
 * - `-nostdinc`, then musl's headers, the compiler's own (intrinsics, after
 *   musl's so musl's `limits.h` wins) and this package's (`hyperlight/*.h`).
 *   Joined `-isystem<dir>`: CMake de-duplicates repeated separate "-isystem" words.
 * - `-fPIE`: the guest is a static PIE, relocated by the host.
 * - `-mno-red-zone`: nothing lives below rsp.
 * - `-fstack-clash-protection`: large frames probe each page, so an overflow
 *   hits the guard page instead of jumping over it.
 * - `-fno-asynchronous-unwind-tables`: no .eh_frame; guests never unwind.
 * - `-ffunction-sections -fdata-sections`: `--gc-sections` drops unused code.
 *
 * @param compilerInclude - {@link compilerIncludeDir} of the compiler
 */
export function guestCompileFlags(compilerInclude: string): string[] {
  const paths = guestCPaths();
  return [
    '-nostdinc',
    `-isystem${paths.libcIncludeDir}`,
    `-isystem${compilerInclude}`,
    `-isystem${paths.includeDir}`,
    '-fPIE',
    '-mno-red-zone',
    '-fstack-clash-protection',
    '-fno-asynchronous-unwind-tables',
    '-ffunction-sections',
    '-fdata-sections',
  ];
}

/** Options of {@link guestCFlags}. */
export interface GuestCFlagOptions {
  /** Real C compiler (default {@link defaultCompiler}). */
  cc?: string;
  /** Optimisation (default `true` = `-O2`). */
  optimize?: OptimizeLevel;
  /** Emit debug info (`-g`). */
  debug?: boolean;
  /** Keep frame pointers, for stack traces in memory profiles. */
  framePointers?: boolean;
}

/**
 * @returns the complete compile flags for a build system that calls the real
 * compiler itself (`--print-cflags`, `HL_CFLAGS`): `-O`, `-g`,
 * {@link guestCompileFlags}, frame pointers and {@link GUEST_TRAILING_CFLAGS}.
 * @throws GuestBuildError when the compiler cannot be run
 */
export async function guestCFlags(options: GuestCFlagOptions = {}): Promise<string[]> {
  return [
    optimizeFlag(options.optimize),
    ...(options.debug ? ['-g'] : []),
    ...guestCompileFlags(await compilerIncludeDir(defaultCompiler(options.cc))),
    ...(options.framePointers ? FRAME_POINTER_FLAGS : []),
    ...GUEST_TRAILING_CFLAGS,
  ];
}

/**
 * Linker flags (before the objects). The result is a static PIE: `ET_DYN`,
 * no `PT_INTERP`, only `R_X86_64_RELATIVE` relocations, entry
 * `hyperlight_entry`. No link script: `-z separate-code` and a 4 KiB max page
 * size make GNU ld put the R, RX, R and RW segments on pages of their own,
 * from address 0, which is what the host's loader maps.
 */
export function guestLdFlags(): string[] {
  return [
    '-nostdlib',
    '-nostartfiles',
    '-static-pie',
    `-Wl,--entry=${GUEST_ENTRY_SYMBOL}`,
    `-Wl,--undefined=${GUEST_ENTRY_SYMBOL}`,
    // A `main` (a build system's link check, a native test driver) stays a
    // GC root: otherwise --gc-sections drops it and its unresolved
    // references with it, and every "does function X exist" check passes.
    '-Wl,--undefined=main',
    '-Wl,--no-dynamic-linker',
    '-Wl,--gc-sections',
    '-Wl,-z,noexecstack',
    '-Wl,-z,separate-code',
    '-Wl,-z,max-page-size=4096',
  ];
}

/**
 * Libraries (after the objects), in one group because musl's members need
 * the runtime's symbols (`__hl_syscall`, `malloc`) and the runtime needs
 * musl's (`vsnprintf`, `__hl_libc_init`); then libgcc for compiler helpers.
 */
export function guestLibs(): string[] {
  const { runtimeArchive, libcArchive } = guestCPaths();
  return ['-Wl,--start-group', runtimeArchive, libcArchive, '-lgcc', '-Wl,--end-group'];
}

/**
 * Libraries a build system may ask for that musl keeps in `libc.a`. The
 * compiler driver drops them: looked up by name, they could resolve to the
 * host's glibc archives.
 */
export const LIBC_PART_LIBRARIES: ReadonlySet<string> = new Set(['c', 'm', 'pthread', 'rt', 'dl', 'util', 'xnet', 'resolv', 'crypt']);

/** Quotes a flag for a POSIX shell / Makefile when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
