#!/usr/bin/env node
// Checks what a prebuilt addon asks of the system it is loaded on, with
// readelf: its NEEDED libraries and every undefined dynamic symbol.
//   node prebuild-symbols.mjs <file.node> gnu|musl   → JSON { needed, highest, problems }
// gnu:  only glibc (GLIBC_*), libgcc_s (GCC_*) and Node-API; no libstdc++.
// musl: NEEDED libc.musl-x86_64.so.1 (+ libstdc++.so.6, libgcc_s.so.1);
//       each symbol is Node-API, libstdc++'s (GLIBCXX_*/CXXABI_*), libgcc_s's
//       (GCC_*), or exported by musl's libc.so (Debian's musl-dev); nothing
//       glibc-only. Weak undefined symbols may stay unresolved.
import { execFileSync } from 'node:child_process';
import { MUSL } from './toolchain.mjs';

const ALLOWED_NEEDED = {
  gnu: ['libc.so.6', 'libm.so.6', 'libgcc_s.so.1', 'ld-linux-x86-64.so.2'],
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
  return { file, libc, needed: libs, undefinedSymbols: symbols.length, highest: highestVersions(symbols), problems };
}

const [file, libc] = process.argv.slice(2);
if (!file || (libc !== 'gnu' && libc !== 'musl')) {
  process.stderr.write('usage: prebuild-symbols.mjs <file.node> gnu|musl\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(check(file, libc), null, 2)}\n`);
