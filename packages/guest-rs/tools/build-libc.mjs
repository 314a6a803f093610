#!/usr/bin/env node
/**
 * Builds the guests' C library into dist/libc/{include,lib/libc.a,COPYRIGHT}:
 * musl from its pinned source tarball (libc/musl.json), with the recipe in
 * libc/ applied (arch headers replaced, the files in libc/removed.txt deleted,
 * the glue in libc/glue/ built into libc.a), then checked: no `syscall`
 * instruction, no %fs access, and none of the runtime's symbols defined.
 *
 * The result is cached in build/libc-<recipe hash>/ (the hash covers the
 * recipe, this script, the flags and the compiler version), so a `pnpm build`
 * after tsup has cleaned dist/ only copies it back. Run after tsup: it uses the
 * package's own dist/ for the pinned fetch.
 *
 * Environment: CC (default gcc), HYPERLIGHT_SOURCE_CACHE (where the tarball is
 * cached; see sourceCacheDir in src/fetch-source.ts).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, cp, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { extractTarball, fetchPinnedSource } from '../dist/index.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const recipeDir = join(packageDir, 'libc');
const distDir = join(packageDir, 'dist', 'libc');
const buildDir = join(packageDir, 'build');

/** Guest code flags (static PIE, no red zone, no %fs canary), plus frame pointers so memory-profile stacks walk through libc. */
const GUEST_CFLAGS = [
  '-fPIE',
  '-mno-red-zone',
  '-fno-stack-protector',
  '-fno-asynchronous-unwind-tables',
  '-ffunction-sections',
  '-fdata-sections',
  '-fno-omit-frame-pointer',
  '-O2',
];

/** Defined by the Rust runtime (hyperlight-guest, feature `libc`): libc.a may use them but must not define them. */
const RUNTIME_SYMBOLS = [
  '__hl_syscall',
  '__hl_abort',
  'malloc',
  'calloc',
  'realloc',
  'free',
  'aligned_alloc',
  'posix_memalign',
  'memalign',
  'malloc_usable_size',
  '__libc_malloc',
  '__libc_malloc_impl',
  '__libc_calloc',
  '__libc_realloc',
  '__libc_free',
];

/** Defined exactly once in libc.a, by the glue. */
const GLUE_SYMBOLS = ['__hl_libc_init', '__hl_libc_flush', '__hl_thread', 'abort', '__stack_chk_fail', '__stack_chk_guard', 'system', '__syscall_cp_asm'];

const startMs = Date.now();
const cc = process.env['CC'] || 'gcc';
const pin = JSON.parse(await readFile(join(recipeDir, 'musl.json'), 'utf8'));
const recipeFiles = await listFiles(recipeDir);
const key = await recipeHash();
const cached = join(buildDir, `libc-${key}`);

try {
  if (await exists(join(cached, 'lib', 'libc.a'))) {
    log(`musl ${pin.version}: cached build ${relative(packageDir, cached)}`);
  } else {
    await build();
  }
  await installIntoDist();
  log(`musl ${pin.version}: dist/libc ready in ${((Date.now() - startMs) / 1000).toFixed(1)} s`);
} catch (e) {
  console.error(`[build-libc] ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}

async function build() {
  await mkdir(buildDir, { recursive: true });
  const work = join(buildDir, `tmp-libc-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const tarball = await fetchPinnedSource(pin, { log });
    const tree = await extractTarball(tarball, join(work, 'src'));
    await applyRecipe(tree);
    const out = join(work, 'out');
    const jobs = String(availableParallelism());
    log(`musl ${pin.version}: building with ${cc} (${jobs} jobs)`);
    await run('./configure', ['--disable-shared', `--prefix=${out}`, `CC=${cc}`, `CFLAGS=${GUEST_CFLAGS.join(' ')}`], tree);
    // configure archives the -fPIC objects when the compiler defaults to PIE; guests want the -fPIE ones.
    await run('make', [`-j${jobs}`, 'lib/libc.a', 'AOBJS=$(LIBC_OBJS)'], tree);
    await run('make', ['install-headers'], tree);
    await mkdir(join(out, 'lib'));
    await cp(join(tree, 'lib', 'libc.a'), join(out, 'lib', 'libc.a'));
    await cp(join(tree, 'COPYRIGHT'), join(out, 'COPYRIGHT'));
    await checkArchive(join(out, 'lib', 'libc.a'));
    await rename(out, cached).catch(async (e) => {
      // A concurrent build of the same recipe got there first; its result is identical.
      if (!(await exists(join(cached, 'lib', 'libc.a')))) throw e;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Replaces the arch headers, deletes what removed.txt lists and adds the glue as a source directory of musl's own build. */
async function applyRecipe(tree) {
  await cp(join(recipeDir, 'arch'), join(tree, 'arch'), { recursive: true });
  const removed = (await readFile(join(recipeDir, 'removed.txt'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const path of removed) {
    const full = join(tree, path);
    const info = await stat(full).catch(() => undefined);
    if (!info) throw new Error(`libc/removed.txt: ${path} is not in musl ${pin.version}; update the recipe`);
    const victims = info.isDirectory() ? (await readdir(full)).map((n) => join(full, n)) : [full];
    for (const victim of victims) await rm(victim, { recursive: true });
  }
  // musl's Makefile builds every src/*/ directory into libc.a.
  await cp(join(recipeDir, 'glue'), join(tree, 'src', 'hyperlight'), { recursive: true });
}

/** Fails the build unless libc.a is free of system calls and %fs, and leaves the runtime's symbols to the runtime. */
async function checkArchive(archive) {
  const problems = [];
  const disassembly = await capture('objdump', ['-d', '--no-show-raw-insn', archive]);
  let member = '';
  let symbol = '';
  for (const line of disassembly.split('\n')) {
    const memberMatch = /^(\S+\.o):\s+file format/.exec(line);
    if (memberMatch) member = memberMatch[1];
    const symbolMatch = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (symbolMatch) symbol = symbolMatch[1];
    if (/\tsyscall\b/.test(line)) problems.push(`${member} <${symbol}>: syscall instruction`);
    if (/%fs:/.test(line)) problems.push(`${member} <${symbol}>: %fs access: ${line.trim()}`);
  }
  const definitions = new Map();
  for (const line of (await capture('nm', ['-A', '--defined-only', archive])).split('\n')) {
    const m = /^[^:]+:([^:]+\.o):[0-9a-f]*\s+([A-Za-z])\s+(\S+)$/.exec(line);
    if (!m || m[2] === m[2].toLowerCase()) continue; // local symbols do not clash
    definitions.set(m[3], [...(definitions.get(m[3]) ?? []), m[1]]);
  }
  for (const name of RUNTIME_SYMBOLS) {
    if (definitions.has(name)) problems.push(`${name} is defined in ${definitions.get(name).join(', ')}, but the runtime provides it`);
  }
  for (const name of GLUE_SYMBOLS) {
    const where = definitions.get(name) ?? [];
    if (where.length !== 1) problems.push(`${name} should be defined once (by the glue), found in: ${where.join(', ') || 'nothing'}`);
  }
  if (problems.length > 0) throw new Error(`libc.a failed its checks:\n  ${problems.join('\n  ')}`);
}

async function installIntoDist() {
  const staging = `${distDir}.tmp-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await cp(cached, staging, { recursive: true });
  await rm(distDir, { recursive: true, force: true });
  await rename(staging, distDir);
}

/** sha256 over everything that decides the output: recipe files, this script, flags, compiler. */
async function recipeHash() {
  const hash = createHash('sha256');
  for (const file of recipeFiles) hash.update(`${relative(recipeDir, file)}\0`).update(await readFile(file));
  hash.update(await readFile(fileURLToPath(import.meta.url)));
  hash.update(`${cc}\0${GUEST_CFLAGS.join(' ')}\0`);
  hash.update(await capture(cc, ['--version']));
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(dir) {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

function exists(path) {
  return access(path).then(
    () => true,
    () => false,
  );
}

function log(line) {
  console.log(`[build-libc] ${line}`);
}

/** Runs a build step quietly; on failure, the error carries the last lines of its output. */
function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d) => {
      output = (output + d).slice(-16_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${output}`)),
    );
  });
}

/** Runs a tool and returns its stdout. */
function capture(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    let stderr = '';
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4_000);
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}): ${stderr}`)),
    );
  });
}
