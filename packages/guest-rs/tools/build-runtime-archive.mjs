#!/usr/bin/env node
/**
 * Builds the guest runtime for C guests into dist/lib/libhyperlight_guest.a:
 * the crate crates/hyperlight-guest-capi (the C API over hyperlight-guest,
 * features `libc` + `trace`) as a staticlib, plus the C objects of its c/
 * folder (the variadic functions and the weak default `hyperlight_main`).
 *
 *   node tools/build-runtime-archive.mjs
 *
 * Release, LTO, one codegen unit, panic=abort and frame pointers (memory
 * profiles walk the stack through the runtime), offline. Two edits to the
 * staticlib: the LLVM bitcode rustc embeds in the precompiled
 * compiler_builtins is removed (binutils' LLVM plugin warns about every such
 * member on every link), and compiler_builtins' weak math functions (`sqrt`,
 * `fmod`, `ceil`, ...) are made local, so C code and the runtime get the
 * libc's. Checked at the end, failing the build: no `syscall` instruction and
 * no %fs access in the archive. C guests link it as
 * `-Wl,--start-group libhyperlight_guest.a libc.a -lgcc -Wl,--end-group`.
 *
 * Cargo's own incremental build (target/runtime-archive) makes a rebuild
 * with nothing changed take about a second. Environment: CC (default gcc).
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const crateDir = join(packageDir, 'crates', 'hyperlight-guest-capi');
const guestCInclude = join(packageDir, '..', 'guest-c', 'include');
const targetDir = join(packageDir, 'target', 'runtime-archive');
const objectDir = join(targetDir, 'c');
const archive = join(packageDir, 'dist', 'lib', 'libhyperlight_guest.a');
const TARGET = 'x86_64-unknown-linux-gnu';
const cc = process.env.CC ?? 'gcc';

/** The flags C guests' code gets (static PIE, no red zone, no %fs canary), plus frame pointers. */
const C_FLAGS = [
  '-std=gnu11', '-O2', '-Wall', '-Wextra', '-Werror',
  '-fPIE', '-mno-red-zone', '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
  '-ffunction-sections', '-fdata-sections', '-fno-omit-frame-pointer',
];

/** Runs `command`, output to this process's; resolves with its stdout when `capture`. */
function run(command, args, { env = process.env, capture = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    const chunks = [];
    child.stdout?.on('data', (c) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

/** `CARGO_ENCODED_RUSTFLAGS` with `flags` added to what the environment already sets. */
function rustflags(flags) {
  const encoded = process.env.CARGO_ENCODED_RUSTFLAGS;
  const existing = encoded ? encoded.split('\x1f') : (process.env.RUSTFLAGS ?? '').split(/\s+/).filter(Boolean);
  return [...existing, ...flags].join('\x1f');
}

const started = Date.now();
await run('cargo', ['build', '--offline', '--release', '--quiet', '--target', TARGET, '--target-dir', targetDir, '--manifest-path', join(crateDir, 'Cargo.toml')], {
  env: {
    ...process.env,
    CARGO_PROFILE_RELEASE_LTO: 'true',
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS: '1',
    CARGO_PROFILE_RELEASE_PANIC: 'abort',
    CARGO_ENCODED_RUSTFLAGS: rustflags(['-Cforce-frame-pointers=yes']),
  },
});

// The C objects see only the compiler's freestanding headers and guest.h.
const gccInclude = (await run(cc, ['-print-file-name=include'], { capture: true })).trim();
await mkdir(objectDir, { recursive: true });
const objects = [];
for (const source of (await readdir(join(crateDir, 'c'))).filter((f) => f.endsWith('.c')).sort()) {
  const object = join(objectDir, source.replace(/\.c$/, '.o'));
  await run(cc, [...C_FLAGS, '-ffreestanding', '-nostdinc', '-isystem', gccInclude, '-I', guestCInclude, '-c', join(crateDir, 'c', source), '-o', object]);
  objects.push(object);
}

// Assembled next to the destination, then renamed: readers never see half an archive.
await mkdir(dirname(archive), { recursive: true });
const partial = `${archive}.partial`;
await copyFile(join(targetDir, TARGET, 'release', 'libhyperlight_guest_capi.a'), partial);
await run('objcopy', ['--remove-section=.llvmbc', '--remove-section=.llvmcmd', partial]);
// Weak definitions with C names (compiler_builtins' libm); the `__` helpers stay.
const symbols = await run('nm', ['--defined-only', '-g', partial], { capture: true });
const libmNames = [...new Set(symbols.split('\n').map((l) => /^[0-9a-f]+ W ([a-z][a-z0-9]*)$/.exec(l)?.[1]).filter(Boolean))];
const localize = join(targetDir, 'localize.txt');
await writeFile(localize, libmNames.join('\n'));
await run('objcopy', [`--localize-symbols=${localize}`, partial]);
await run('ar', ['qD', partial, ...objects]);
await run('ranlib', ['-D', partial]);

const disassembly = await run('objdump', ['-d', '--no-show-raw-insn', partial], { capture: true });
const problems = [];
if (/\bsyscall\b/.test(disassembly)) problems.push('a `syscall` instruction');
if (/%fs:/.test(disassembly)) problems.push('an %fs access');
if (problems.length) {
  await rm(partial, { force: true });
  throw new Error(`build-runtime-archive: the runtime archive contains ${problems.join(' and ')}; guests cannot run it`);
}
await rename(partial, archive);
console.log(`build-runtime-archive: ${archive} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
