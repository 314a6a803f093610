#!/usr/bin/env node
// Builds a Linux backend's Node-API addon from the shared C++ sources
// (native-linux/src/native) plus the backend's own, with g++ directly:
//
//   node ../native-linux/tools/build-addon.mjs --name hyperlight_kvm --libc gnu
//     → prebuilds/linux-x64-gnu/hyperlight_kvm.node (from ./src/native/*.cc)
//
// Options: --libc gnu|musl, --name <addon>, --src <dir> (default src/native),
// --out <file> (default prebuilds/linux-x64-<libc>/<name>.node), --build-dir
// <dir> (objects; default build/<libc>), all relative to the current
// directory. Compiles in parallel and only what changed since the last build
// (g++'s dependency files, and everything again when the flags change).
// Build-time only: not in any package tarball (docs/installing.md says why
// this is not node-gyp).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureMuslTools, SHARED_SOURCE_DIR, toolchainFlags } from './toolchain.mjs';

/**
 * Builds one addon variant.
 * @param {{ libc: 'gnu' | 'musl', sourceDirs: string[], outFile: string, buildDir: string }} options
 */
async function buildAddon({ libc, sourceDirs, outFile, buildDir }) {
  if (libc === 'musl') ensureMuslTools();
  mkdirSync(buildDir, { recursive: true });
  const flags = toolchainFlags(libc, buildDir);
  const objDir = join(buildDir, 'obj');
  const stampFile = join(buildDir, 'flags.json');
  const stamp = JSON.stringify(flags);
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) rmSync(objDir, { recursive: true, force: true });
  mkdirSync(objDir, { recursive: true });

  const units = [
    ...[SHARED_SOURCE_DIR, ...sourceDirs].flatMap((dir, dirIndex) =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.cc'))
        .sort()
        .map((name) => ({ source: join(dir, name), object: join(objDir, `${dirIndex}-${basename(name, '.cc')}.o`) })),
    ),
    ...flags.sources.map((source) => ({ source, object: join(objDir, `${libc}-${basename(source, '.cc')}.o`) })),
  ];
  const stale = units.filter(({ object }) => !upToDate(object));
  await runPool(
    stale.map(({ source, object }) => () => gxx([...flags.compile, '-MMD', '-MF', `${object}.d`, '-c', source, '-o', object])),
  );
  writeFileSync(stampFile, stamp);

  mkdirSync(dirname(outFile), { recursive: true });
  const tmpFile = `${outFile}.tmp-${process.pid}`;
  await gxx([...flags.linkBefore, ...units.map(({ object }) => object), ...flags.linkAfter, '-o', tmpFile]);
  renameSync(tmpFile, outFile);
  const compiled = `${stale.length}/${units.length} sources compiled`;
  process.stdout.write(`built ${outFile} (${libc}, ${statSync(outFile).size} bytes, ${compiled})\n`);
}

/** Whether `object` exists and is newer than every file its dependency file lists. */
function upToDate(object) {
  if (!existsSync(object) || !existsSync(`${object}.d`)) return false;
  const objectTime = statSync(object).mtimeMs;
  const rule = readFileSync(`${object}.d`, 'utf8').replace(/\\\n/g, ' ');
  const deps = rule.slice(rule.indexOf(':') + 1).split(/\s+/).filter(Boolean);
  return deps.every((dep) => existsSync(dep) && statSync(dep).mtimeMs <= objectTime);
}

/** Runs `g++ args`; rejects with its exit status (its output goes to this process's). */
function gxx(args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('g++', args, { stdio: 'inherit' });
    child.on('error', (error) => reject(new Error(`cannot run g++ (install g++): ${error.message}`)));
    child.on('exit', (code, signal) => (code === 0 ? resolvePromise() : reject(new Error(`g++ failed (${signal ?? `exit ${code}`})`))));
  });
}

/** Runs the jobs, at most one per CPU at a time; rejects with the first failure. */
async function runPool(jobs) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: Math.min(availableParallelism(), jobs.length) }, worker));
}

async function main() {
  const { values } = parseArgs({
    options: {
      libc: { type: 'string' },
      name: { type: 'string' },
      src: { type: 'string', multiple: true },
      out: { type: 'string' },
      'build-dir': { type: 'string' },
    },
  });
  const { libc, name } = values;
  if ((libc !== 'gnu' && libc !== 'musl') || !name) {
    throw new Error('usage: build-addon.mjs --libc gnu|musl --name <addon> [--src <dir>]... [--out <file>] [--build-dir <dir>]');
  }
  await buildAddon({
    libc,
    sourceDirs: (values.src ?? ['src/native']).map((dir) => resolve(dir)),
    outFile: resolve(values.out ?? join('prebuilds', `linux-x64-${libc}`, `${name}.node`)),
    buildDir: resolve(values['build-dir'] ?? join('build', libc)),
  });
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((error) => {
    process.stderr.write(`build-addon: ${error.message}\n`);
    process.exit(1);
  });
}
