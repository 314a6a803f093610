#!/usr/bin/env node
/**
 * Builds every real-world library (tools/libraries.mjs) twice, unmodified and
 * with its own build system: natively with the host's gcc, linked into a CLI,
 * and for guests with hyperlight-cc, linked into a guest. Both links use the
 * same logic file, so the tests can compare the two byte for byte.
 *
 * Each build is cached under build/<target>-<library>-<key>/, the key hashing
 * the pinned tarball, our C sources and recipes, and the toolchain (for
 * guests: the wrapper, the runtime and libc archives). dist/ receives the
 * binaries, the corpora from the tarballs and manifest.json (with each build's
 * measured wall time).
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractTarball, fetchPinnedSource } from '@hyperlight-ts/guest-rs';
import { LIBRARIES } from './libraries.mjs';
import { run } from './run.mjs';
import { guestToolchain, nativeToolchain, treeHashes } from './toolchains.mjs';

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
const SRC_DIR = join(PACKAGE_DIR, 'src');
const BUILD_DIR = join(PACKAGE_DIR, 'build');
const DIST_DIR = join(PACKAGE_DIR, 'dist');
/** Flags of our own wrapper files (the libraries keep theirs). */
const WRAPPER_CFLAGS = ['-std=c11', '-O2', '-Wall', '-Wextra', '-Werror'];
/** The file a finished build leaves; without it a build dir is incomplete. */
const DONE_FILE = 'done.json';

/** Our C files per target, besides the library's logic file. */
const FRONT_ENDS = {
  native: ['common/native_main.c', 'common/batch.c'],
  guest: (lib) => [`${lib.id}/guest.c`, 'common/guest_batch.c', 'common/batch.c'],
};

function log(line) {
  console.log(`real-world: ${line}`);
}

/** The cache key of one library built by one toolchain. */
async function cacheKey(lib, pin, toolchain) {
  const inputs = [pin.sha256, await toolchain.identity(), ...treeHashes(SRC_DIR), ...treeHashes(join(PACKAGE_DIR, 'tools'))];
  // Paths inside the package are part of the hashes' lines; make them relative so clones share keys.
  return createHash('sha256').update(inputs.join('\n').replaceAll(PACKAGE_DIR, '.')).update(lib.id).digest('hex').slice(0, 16);
}

/** Builds `lib` with `toolchain` into `dir` (the library, then our front end linked against it). */
async function buildInto(lib, tarball, toolchain, dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const started = performance.now();
  const srcDir = await extractTarball(tarball, join(dir, 'src'));
  const built = await lib.build(toolchain, srcDir, dir);
  const frontEnd = toolchain === guestToolchain ? FRONT_ENDS.guest(lib) : FRONT_ENDS.native;
  const output = join(dir, binaryName(lib, toolchain));
  const sources = [...frontEnd, ...lib.sources].map((f) => join(SRC_DIR, f));
  const includes = built.includeDirs.map((d) => `-I${d}`);
  await run(toolchain.cc, [...WRAPPER_CFLAGS, ...includes, '-o', output, ...sources, ...built.archives, '-lm']);
  const buildMs = Math.round(performance.now() - started);
  await writeFile(join(dir, DONE_FILE), `${JSON.stringify({ buildMs, flags: built.flags, srcDir: srcDir.slice(dir.length + 1) })}\n`);
  return { buildMs, flags: built.flags, srcDir };
}

function binaryName(lib, toolchain) {
  return toolchain === guestToolchain ? `${lib.id}.guest` : `${lib.id}-native`;
}

/** Removes cache dirs of earlier keys of the same library and target. */
async function pruneOld(lib, toolchain, keep) {
  const prefix = `${toolchain.name}-${lib.id}-`;
  for (const name of await readdir(BUILD_DIR)) {
    if (name.startsWith(prefix) && name !== keep) await rm(join(BUILD_DIR, name), { recursive: true, force: true });
  }
}

/** A cached or fresh build of `lib` with `toolchain`; copies its binary into dist/. */
async function ensureBuilt(lib, pin, tarball, toolchain) {
  const key = await cacheKey(lib, pin, toolchain);
  const name = `${toolchain.name}-${lib.id}-${key}`;
  const dir = join(BUILD_DIR, name);
  let result;
  if (existsSync(join(dir, DONE_FILE))) {
    const done = JSON.parse(await readFile(join(dir, DONE_FILE), 'utf8'));
    result = { buildMs: done.buildMs, flags: done.flags, srcDir: join(dir, done.srcDir), cached: true };
  } else {
    log(`building ${pin.name} (${toolchain.name}) in build/${name}`);
    result = { ...(await buildInto(lib, tarball, toolchain, dir)), cached: false };
  }
  await pruneOld(lib, toolchain, name);
  await cp(join(dir, binaryName(lib, toolchain)), join(DIST_DIR, binaryName(lib, toolchain)));
  log(`${pin.name} ${toolchain.name} build: ${(result.buildMs / 1000).toFixed(1)} s wall${result.cached ? ' (measured when built; cached now)' : ''}`);
  return result;
}

async function main() {
  await mkdir(BUILD_DIR, { recursive: true });
  await rm(DIST_DIR, { recursive: true, force: true });
  await mkdir(DIST_DIR, { recursive: true });
  // Native builds first: they need neither guest-c nor guest-rs's archives.
  const manifest = {};
  const writeManifest = () => writeFile(join(DIST_DIR, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const built = [];
  for (const lib of LIBRARIES) {
    const pin = JSON.parse(await readFile(join(PACKAGE_DIR, lib.pin), 'utf8'));
    const tarball = await fetchPinnedSource(pin, { log });
    const tarballSha256 = createHash('sha256').update(await readFile(tarball)).digest('hex');
    const native = await ensureBuilt(lib, pin, tarball, nativeToolchain);
    for (const entry of lib.corpus) await cp(join(native.srcDir, entry), join(DIST_DIR, 'corpus', lib.id, entry), { recursive: true });
    manifest[lib.id] = {
      name: pin.name,
      tarballSha256,
      native: binaryName(lib, nativeToolchain),
      corpus: `corpus/${lib.id}`,
      nativeBuildMs: native.buildMs,
      nativeFlags: native.flags,
    };
    built.push({ lib, pin, tarball });
  }
  await writeManifest();
  for (const { lib, pin, tarball } of built) {
    const guest = await ensureBuilt(lib, pin, tarball, guestToolchain);
    Object.assign(manifest[lib.id], { guest: binaryName(lib, guestToolchain), guestBuildMs: guest.buildMs, guestFlags: guest.flags });
  }
  await writeManifest();
}

try {
  await main();
} catch (error) {
  console.error(`real-world: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
