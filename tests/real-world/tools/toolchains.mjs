/**
 * The two toolchains every library is built with: the host's gcc (native
 * CLI) and guest-c's compiler wrapper `hyperlight-cc` (guests). Each knows
 * how to hand itself to CMake and to configure scripts, and what identifies
 * it in a cache key.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestNativeLibraries, missingNativeLibraries } from '@hyperlight-ts/guest-rs';
import { run } from './run.mjs';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** @returns the sha256 of a file's bytes (hex). */
export function fileHash(file) {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** @returns `path sha256` lines for every file under `dir`, in a stable order. */
export function treeHashes(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort()
    .map((f) => `${f} ${fileHash(f)}`);
}

/** gcc as the host's compiler. */
export const nativeToolchain = {
  name: 'native',
  cc: 'gcc',
  /** CMake arguments that select this toolchain. */
  cmakeArgs: () => ['-DCMAKE_C_COMPILER=gcc'],
  /** What identifies the toolchain for the build cache. */
  identity: async () => [await run('gcc', ['--version'], { capture: true }), await run('cmake', ['--version'], { capture: true })].join('\n'),
};

/** Where guest-c's wrapper and CMake toolchain file are; throws when guest-c or guest-rs is not built. */
function guestPaths() {
  const guestC = dirname(require.resolve('@hyperlight-ts/guest-c/package.json'));
  const cc = join(PACKAGE_DIR, 'node_modules', '.bin', 'hyperlight-cc');
  const toolchainFile = join(guestC, 'link', 'hyperlight-toolchain.cmake');
  const missing = [cc, toolchainFile].filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`guest-c's compiler wrapper is missing (${missing.join(', ')}): run pnpm install and build @hyperlight-ts/guest-c`);
  const libraries = missingNativeLibraries();
  if (libraries.length) throw new Error(`the guest libraries are missing (${libraries.join(', ')}): build @hyperlight-ts/guest-rs`);
  return { guestC, cc, toolchainFile };
}

/** hyperlight-cc, targeting guests. */
export const guestToolchain = {
  name: 'guest',
  get cc() {
    return guestPaths().cc;
  },
  cmakeArgs: () => [`-DCMAKE_TOOLCHAIN_FILE=${guestPaths().toolchainFile}`],
  /** The native identity plus every file that shapes a guest: the wrapper, its link files, the archives. */
  identity: async () => {
    const { guestC } = guestPaths();
    const libs = guestNativeLibraries();
    const files = [libs.libcArchive, libs.runtimeArchive].map((f) => `${f} ${fileHash(f)}`);
    const trees = [join(guestC, 'bin'), join(guestC, 'dist'), join(guestC, 'link'), libs.libcIncludeDir].flatMap(treeHashes);
    return [await nativeToolchain.identity(), ...files, ...trees].join('\n');
  },
};
