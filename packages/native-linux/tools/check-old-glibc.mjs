#!/usr/bin/env node
// Proves the glibc prebuilds (linux-x64-gnu) of both Linux backends load and
// run on an older glibc than the build machine's: this machine's `node` runs
// under the dynamic loader and libraries of another Debian's root file system
// (debootstrap --variant=minbase), with every symbol bound at load time
// (LD_BIND_NOW), and
//   - require()s each prebuild,
//   - calls the backend's check() (here: no hypervisor device, so
//     'device-missing'; 'load-failed' would mean the addon did not load),
//   - fills a GuestMemory, asks its privatePageCount() (memfd, mmap, fstat),
//     snapshots and restores it,
//   - confirms every library in the process came from that root.
//
//   debootstrap --variant=minbase bullseye ~/.cache/hyperlight-ts/bullseye-root http://deb.debian.org/debian
//   node packages/native-linux/tools/check-old-glibc.mjs ~/.cache/hyperlight-ts/bullseye-root [backend-kvm|backend-mshv]...
//
// The root defaults to $HYPERLIGHT_OLD_GLIBC_ROOT (then give "" as the root
// to name backends); the backends default to both. Exit status 0 when every
// check passes, 1 otherwise; the report is printed as JSON. Needs the
// backends built (`pnpm build`). Nothing needs root privileges: no chroot,
// no mounts; the host's file system stays visible, only the C library and
// the other shared libraries are the root's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const PACKAGES_DIR = fileURLToPath(new URL('../../', import.meta.url));
/** The backends whose gnu prebuilds are checked. */
const BACKENDS = [
  { name: '@hyperlight-ts/backend-kvm', dir: 'backend-kvm', addon: 'hyperlight_kvm.node' },
  { name: '@hyperlight-ts/backend-mshv', dir: 'backend-mshv', addon: 'hyperlight_mshv.node' },
];
const LIBRARY_DIRS = ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu'];
const MEMORY_BYTES = 64 * 1024;

/** The root's dynamic loader: a regular file or a relative link (an absolute one would point at this machine's). */
function loaderOf(root) {
  for (const dir of LIBRARY_DIRS) {
    const path = join(root, dir, 'ld-linux-x86-64.so.2');
    if (existsSync(path)) return path;
  }
  throw new Error(`no ld-linux-x86-64.so.2 in ${LIBRARY_DIRS.map((dir) => join(root, dir)).join(' or ')}: not a Debian x86-64 root`);
}

/** Runs this file's probe under `root`'s loader and libraries; returns its parsed report. */
function runProbe(root, backendDirs) {
  const probeArgs = [fileURLToPath(import.meta.url), '--probe', root, ...backendDirs];
  const args = ['--library-path', LIBRARY_DIRS.map((dir) => join(root, dir)).join(':'), process.execPath, ...probeArgs];
  const child = spawnSync(loaderOf(root), args, { encoding: 'utf8', env: { ...process.env, LD_BIND_NOW: '1' }, timeout: 60_000 });
  if (child.status !== 0) {
    throw new Error(`the probe under ${root} failed (${child.error?.message ?? child.signal ?? `exit ${child.status}`}):\n${child.stderr}${child.stdout}`);
  }
  return JSON.parse(child.stdout);
}

/** Inside the old root: loads and exercises the gnu prebuild of each backend in `backendDirs`. */
async function probe(root, backendDirs) {
  const results = [];
  for (const backend of BACKENDS.filter(({ dir }) => backendDirs.includes(dir))) {
    const packageDir = join(PACKAGES_DIR, backend.dir);
    const prebuild = join(packageDir, 'prebuilds', 'linux-x64-gnu', backend.addon);
    const result = { backend: backend.name, prebuild };
    try {
      const addon = createRequire(import.meta.url)(prebuild);
      result.exports = Object.keys(addon).sort();
      const memory = new addon.GuestMemory(MEMORY_BYTES);
      new Uint8Array(memory.buffer).fill(1);
      result.privatePageCount = memory.privatePageCount();
      const snapshot = memory.snapshot();
      memory.restore(snapshot);
      memory.dispose();
      snapshot.dispose();
      const { backend: instance } = await import(pathToFileURL(join(packageDir, 'dist', 'index.js')).href);
      result.check = instance.check();
    } catch (error) {
      result.error = error instanceof Error ? `${error.message}` : String(error);
    }
    results.push(result);
  }
  const report = process.report.getReport();
  const foreign = report.sharedObjects.filter(
    (object) => object.startsWith('/') && !object.startsWith(`${root}/`) && !object.endsWith('.node'),
  );
  return { glibcRuntime: report.header.glibcVersionRuntime, node: process.version, foreignLibraries: foreign, results };
}

/** Every failed expectation of `report` (empty when the prebuilds work on that glibc). */
function problemsOf(report) {
  const problems = [];
  if (report.foreignLibraries.length > 0) problems.push(`libraries from outside the root: ${report.foreignLibraries.join(', ')}`);
  for (const result of report.results) {
    if (result.error !== undefined) problems.push(`${result.backend}: ${result.error}`);
    else if (result.check?.reason === 'load-failed') problems.push(`${result.backend}: check() says load-failed: ${result.check.detail}`);
    else if (!(result.privatePageCount >= MEMORY_BYTES / 4096)) problems.push(`${result.backend}: privatePageCount() ${result.privatePageCount}`);
  }
  return problems;
}

async function main() {
  const [first, ...rest] = process.argv.slice(2);
  if (first === '--probe') {
    const [root, ...backendDirs] = rest;
    process.stdout.write(`${JSON.stringify(await probe(root, backendDirs))}\n`);
    return;
  }
  const rootArg = first || process.env.HYPERLIGHT_OLD_GLIBC_ROOT;
  const backendDirs = rest.length > 0 ? rest : BACKENDS.map(({ dir }) => dir);
  const unknown = backendDirs.filter((dir) => !BACKENDS.some((backend) => backend.dir === dir));
  if (!rootArg || unknown.length > 0) {
    throw new Error('usage: check-old-glibc.mjs <debian root> [backend-kvm|backend-mshv]... (the root defaults to $HYPERLIGHT_OLD_GLIBC_ROOT)');
  }
  const report = runProbe(resolve(rootArg), backendDirs);
  const problems = problemsOf(report);
  process.stdout.write(`${JSON.stringify({ ...report, problems }, null, 2)}\n`);
  if (problems.length > 0) process.exitCode = 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`check-old-glibc: ${error.message}\n`);
    process.exit(1);
  });
}
