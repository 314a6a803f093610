#!/usr/bin/env node
// Checks what a prebuilt addon asks of the system it is loaded on, with
// readelf: its NEEDED libraries and every undefined dynamic symbol.
//   node prebuild-symbols.mjs <file.node> gnu|musl   → JSON { needed, highest, glibcBaseline (gnu), problems }
// gnu:  only glibc (GLIBC_*), libgcc_s (GCC_*) and Node-API; no libstdc++;
//       every GLIBC_ symbol and version present in glibc 2.28 (gnu/glibc-2.28.abilist)
//       in a library the addon lists as NEEDED.
// musl: NEEDED libc.musl-x86_64.so.1 (+ libstdc++.so.6, libgcc_s.so.1);
//       each symbol is Node-API, libstdc++'s (GLIBCXX_*/CXXABI_*), libgcc_s's
//       (GCC_*), or exported by musl's libc.so (Debian's musl-dev); nothing
//       glibc-only. Weak undefined symbols may stay unresolved.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MUSL } from './toolchain.mjs';

/** The oldest glibc the gnu build must run on; gnu/glibc-<it>.abilist lists its symbols. */
const GLIBC_BASELINE = '2.28';

const ALLOWED_NEEDED = {
  gnu: ['libc.so.6', 'libpthread.so.0', 'libm.so.6', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2'],
  musl: [MUSL.soname, 'libstdc++.so.6', 'libgcc_s.so.1'],
};
/** Symbols only glibc has, which a musl build must never ask for. */
const GLIBC_ONLY = /^(__\w+_chk|pthread_cond_clockwait|pthread_mutex_clocklock|_dl_find_object|__libc_single_threaded|__cxa_thread_atexit_impl|gnu_get_libc_version)$/;

/** `{ name, version, weak }` of every undefined dynamic symbol of `file`. */
function undefinedSymbols(file) {
  return dynamicSymbols(file).filter((symbol) => symbol.undefined);
}

function dynamicSymbols(file) {
  const out = execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' });
  return out.split('\n').flatMap((line) => {
    // Num: Value Size Type Bind Vis Ndx Name[@version (n)]
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || !/^\d+:$/.test(fields[0])) return [];
    const [name, version = null] = fields[7].split(/@+/);
    if (name === '') return [];
    return [{ name, version, weak: fields[4] === 'WEAK', undefined: fields[6] === 'UND' }];
  });
}

/**
 * glibc {@link GLIBC_BASELINE}'s ABI: `symbols` maps `name@version` to the
 * sonames defining it, `versions` a soname to the version names it defines.
 */
function baselineAbi() {
  const text = readFileSync(new URL(`./gnu/glibc-${GLIBC_BASELINE}.abilist`, import.meta.url), 'utf8');
  const symbols = new Map();
  const versions = new Map();
  let soname = '';
  let version = '';
  for (const line of text.split('\n')) {
    const section = /^\[(\S+) (\S+)\]$/.exec(line);
    if (section !== null) {
      [, soname, version] = section;
      versions.set(soname, (versions.get(soname) ?? new Set()).add(version));
    } else if (line !== '' && !line.startsWith('#')) {
      const key = `${line}@${version}`;
      symbols.set(key, [...(symbols.get(key) ?? []), soname]);
    }
  }
  return { symbols, versions };
}

/** `{ file, version }` of every version the dynamic loader will require of a library (readelf -V). */
function versionNeeds(file) {
  const out = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
  const section = out.split("Version needs section '.gnu.version_r'")[1] ?? '';
  const needs = [];
  let library = '';
  for (const line of section.split('\n')) {
    const fileLine = /File: (\S+)/.exec(line);
    if (fileLine !== null) library = fileLine[1];
    const nameLine = /Name: (\S+)/.exec(line);
    if (nameLine !== null) needs.push({ file: library, version: nameLine[1] });
  }
  return needs;
}

/** Problems of a gnu build's glibc symbols and version needs against glibc {@link GLIBC_BASELINE}. */
function baselineProblems(file, libs, symbols) {
  const problems = [];
  const { symbols: baseline, versions } = baselineAbi();
  for (const { name, version } of symbols) {
    if (!/^GLIBC_/.test(version ?? '')) continue;
    const definers = baseline.get(`${name}@${version}`);
    if (definers === undefined) {
      problems.push(`${name}@${version} is not in glibc ${GLIBC_BASELINE}`);
    } else if (!definers.some((soname) => libs.includes(soname))) {
      problems.push(`${name}@${version} is in ${definers.join(', ')} in glibc ${GLIBC_BASELINE}, which is not NEEDED`);
    }
  }
  for (const need of versionNeeds(file)) {
    const defined = versions.get(need.file);
    if (defined !== undefined && !defined.has(need.version)) {
      problems.push(`${need.file} of glibc ${GLIBC_BASELINE} does not define version ${need.version}`);
    }
  }
  return problems;
}

function needed(file) {
  const out = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1]);
}

/** The highest version per prefix (GLIBC, GLIBCXX, CXXABI, GCC) among `symbols`. */
function highestVersions(symbols) {
  const highest = {};
  for (const { version } of symbols) {
    const match = /^([A-Z]+)_([\d.]+)$/.exec(version ?? '');
    if (match === null) continue;
    const [, prefix, number] = match;
    if (highest[prefix] === undefined || compareVersions(number, highest[prefix]) > 0) highest[prefix] = number;
  }
  return highest;
}

function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  }
  return 0;
}

function check(file, libc) {
  const problems = [];
  const libs = needed(file);
  for (const lib of libs) if (!ALLOWED_NEEDED[libc].includes(lib)) problems.push(`NEEDED ${lib} is not allowed for ${libc}`);
  if (libc === 'musl' && !libs.includes(MUSL.soname)) problems.push(`NEEDED lacks ${MUSL.soname}`);
  const symbols = undefinedSymbols(file);
  const muslExports = libc === 'musl'
    ? new Set(dynamicSymbols(`${MUSL.libDir}/libc.so`).filter((symbol) => !symbol.undefined).map((symbol) => symbol.name))
    : new Set();
  for (const { name, version, weak } of symbols) {
    const label = version === null ? name : `${name}@${version}`;
    if (/^(napi|node_api)_/.test(name)) {
      if (version !== null) problems.push(`${label}: Node-API symbols are unversioned`);
    } else if (libc === 'gnu') {
      if (!/^(GLIBC|GCC)_/.test(version ?? '') && !weak) problems.push(`${label} is not from glibc or libgcc_s`);
    } else if (GLIBC_ONLY.test(name)) {
      problems.push(`${label} is glibc-only`);
    } else if (/^GLIBC_/.test(version ?? '')) {
      problems.push(`${label} asks for glibc`);
    } else if (!/^(GLIBCXX|CXXABI|GCC)_/.test(version ?? '') && !muslExports.has(name) && !weak) {
      problems.push(`${label} is not exported by musl's libc.so`);
    }
  }
  if (libc === 'gnu') problems.push(...baselineProblems(file, libs, symbols));
  const baseline = libc === 'gnu' ? { glibcBaseline: GLIBC_BASELINE } : {};
  return { file, libc, needed: libs, undefinedSymbols: symbols.length, highest: highestVersions(symbols), ...baseline, problems };
}

const [file, libc] = process.argv.slice(2);
if (!file || (libc !== 'gnu' && libc !== 'musl')) {
  process.stderr.write('usage: prebuild-symbols.mjs <file.node> gnu|musl\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(check(file, libc), null, 2)}\n`);
