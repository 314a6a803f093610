/**
 * What each publishable package's tarball must contain, file by file: every
 * shipped file matches one pattern, and every pattern that is not optional
 * matches at least one file. `*` matches within a path segment, `**` across
 * segments. Anything else (tests, fixtures, sources of the build, build
 * leftovers, tsbuildinfo) fails the check.
 */

/** One expected file or family of files. */
export interface FilePattern {
  /** Glob over paths inside the package. */
  readonly glob: string;
  /** The pattern may match nothing (tsup's shared chunks exist only when entries share code). */
  readonly optional?: boolean;
}

/** Every package: its manifest, README and licence. */
const COMMON: readonly FilePattern[] = [{ glob: 'package.json' }, { glob: 'README.md' }, { glob: 'LICENSE' }];

/**
 * tsup output for `entries` in ESM and CommonJS with types for both, shared
 * chunks and shared declaration chunks. No source maps: tsup's CommonJS maps
 * name the build machine's absolute path as a source without its text, and
 * nothing needs them at run time.
 */
function tsupOutput(...entries: string[]): FilePattern[] {
  return [
    ...entries.flatMap((e) => ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => ({ glob: `dist/${e}.${ext}` }))),
    ...['js', 'cjs'].map((ext) => ({ glob: `dist/chunk-*.${ext}`, optional: true })),
    ...['d.ts', 'd.cts'].map((ext) => ({ glob: `dist/*-????????.${ext}`, optional: true })),
  ];
}

/** The prebuilt Node-API addon of a Linux backend, for both C libraries (docs/installing.md). */
function prebuilds(addon: string): FilePattern[] {
  return [{ glob: `prebuilds/linux-x64-gnu/${addon}.node` }, { glob: `prebuilds/linux-x64-musl/${addon}.node` }];
}

/** Expected files per package name. */
export const EXPECTED_FILES: Readonly<Record<string, readonly FilePattern[]>> = {
  '@hyperlight-ts/core': [...COMMON, ...tsupOutput('index', 'backend')],
  '@hyperlight-ts/backend-kvm': [...COMMON, ...tsupOutput('index'), ...prebuilds('hyperlight_kvm')],
  '@hyperlight-ts/backend-mshv': [...COMMON, ...tsupOutput('index'), ...prebuilds('hyperlight_mshv')],
  // The worker thread that bounds WHvRunVirtualProcessor waits is its own entry.
  '@hyperlight-ts/backend-whp': [...COMMON, ...tsupOutput('index'), { glob: 'dist/watchdog-worker.js' }, { glob: 'dist/watchdog-worker.cjs' }],
  // No install step compiles anything any more, so the shared C++ sources are of no use in the
  // tarball: what the backends need from this package at run time is its JavaScript.
  '@hyperlight-ts/native-linux': [...COMMON, ...tsupOutput('index')],
  '@hyperlight-ts/guest-rs': [
    ...COMMON,
    ...tsupOutput('index', 'cli'),
    { glob: 'bin/hyperlight-build-rust-guest.mjs' },
    // The runtime crates a guest's Cargo.toml names by path, without their test-only modules.
    { glob: 'crates/hyperlight-guest/Cargo.toml' },
    { glob: 'crates/hyperlight-guest/src/**.rs' },
    { glob: 'crates/hyperlight-guest-macros/Cargo.toml' },
    { glob: 'crates/hyperlight-guest-macros/src/lib.rs' },
    // Prebuilt: the runtime for C guests and musl (archive, headers, its copyright notice).
    { glob: 'dist/lib/libhyperlight_guest.a' },
    { glob: 'dist/libc/lib/libc.a' },
    { glob: 'dist/libc/include/**.h' },
    { glob: 'dist/libc/COPYRIGHT' },
  ],
  '@hyperlight-ts/guest-c': [
    ...COMMON,
    ...tsupOutput('index', 'cli', 'cc'),
    { glob: 'bin/hyperlight-cc' },
    { glob: 'bin/hyperlight-build-c-guest.mjs' },
    { glob: 'include/hyperlight/abi.h' },
    { glob: 'include/hyperlight/guest.h' },
    { glob: 'include/hyperlight/trace.h' },
    { glob: 'link/hyperlight.mk' },
    { glob: 'link/hyperlight-toolchain.cmake' },
  ],
  '@hyperlight-ts/tracing': [...COMMON, ...tsupOutput('index')],
  '@hyperlight-ts/trace-dump': [...COMMON, ...tsupOutput('index'), { glob: 'bin/hyperlight-trace-dump.mjs' }],
  '@hyperlight-ts/create-guest': [
    ...COMMON,
    { glob: 'bin/create-guest.mjs' },
    { glob: 'dist/**', optional: true },
    { glob: 'templates/**' },
  ],
};

/** Test-only Rust modules of the runtime crate (`#[cfg(test)]`), which must not ship. */
export const RUST_TEST_MODULES = /(^|\/)(tests|test_host|per_call_bench)\.rs$|tracing\/bench\.rs$/;

/** @returns a regular expression for a glob of {@link FilePattern} */
export function globToRegExp(glob: string): RegExp {
  const source = glob
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part === '?' ? '[^/]' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}
