/**
 * The host-emulator suite of @hyperlight-ts/guest-c (`pnpm test`, after the
 * vitest suites; needs `pnpm build` first, turbo does that): C guests, built
 * with buildCGuest against the runtime and libc archives of
 * @hyperlight-ts/guest-rs, run in an in-process stand-in for the host
 * (test/native/host_emulator.c) with no hypervisor:
 *
 *  - the fixture guests (fixtures/guests/c: simpleguest, tracedguest);
 *  - test/guests/probe.c (the C API's corners) and test/guests/trace_probe.c
 *    (the tracing functions without HL_TRACE), tracing records checked byte
 *    for byte.
 *
 * The emulator encodes calls and decodes results with its own host-side
 * FlatBuffers code (test/native/wire.c, fb.c), independent of the runtime's.
 * Ends with "N passed, M failed".
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const pkg = dirname(dirname(fileURLToPath(import.meta.url)));
const repo = join(pkg, '..', '..');
const out = join(pkg, 'build', 'test');
const cc = process.env.CC ?? 'gcc';
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

let passed = 0;
let failed = 0;
const fail = (name, why) => {
  failed++;
  console.log(`FAIL ${name}\n    ${String(why).trimEnd().split('\n').join('\n    ')}`);
};
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    fail(name, e?.output || e?.stderr || e?.stack || e);
  }
}

/** Parses "ok/FAIL" lines and the RESULT line of a native test binary. */
function native(name, bin, env = {}) {
  const r = spawnSync(bin, [], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 600_000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const result = /RESULT (\d+) (\d+)/.exec(text);
  for (const line of (r.stdout ?? '').split('\n')) if (line && !line.startsWith('RESULT')) console.log(line);
  if (!result) {
    fail(name, `no RESULT line (exit ${r.status}, signal ${r.signal})\n${text.slice(-3000)}`);
    return;
  }
  passed += Number(result[1]);
  failed += Number(result[2]);
  if (r.stderr) console.log(r.stderr.trimEnd());
}

const { buildCGuest } = await import(join(pkg, 'dist', 'index.js'));
const hostFlags = ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Wno-missing-field-initializers', '-Wno-format-truncation', '-I', join(pkg, 'include')];

const guests = {
  HL_SIMPLEGUEST: join(out, 'c-simpleguest.elf'),
  HL_TRACEDGUEST: join(out, 'c-tracedguest.elf'),
  HL_PROBE: join(out, 'probe.elf'),
  HL_TRACE_PROBE: join(out, 'trace_probe.elf'),
};
await step('build: guests', async () => {
  // Into this package's own output: fixtures/guests/out is shared with suites running in parallel.
  await run(process.execPath, [join(repo, 'fixtures', 'guests', 'c', 'build.mjs'), '--out-dir', out, 'simpleguest', 'tracedguest']);
  await buildCGuest({ sources: [join(pkg, 'test', 'guests', 'probe.c')], outFile: guests.HL_PROBE, optimize: 2, defines: { PROBE: 1 } });
  // Without HL_TRACE: its macros must compile to nothing; the functions still record.
  await buildCGuest({ sources: [join(pkg, 'test', 'guests', 'trace_probe.c')], outFile: guests.HL_TRACE_PROBE, framePointers: true, cflags: ['-Wall', '-Wextra', '-Werror'] });
});
const e2e = join(out, 'e2e');
await step('build: emulator', async () => {
  const sources = ['fb.c', 'wire.c', 'check.c', 'host_emulator.c', 'e2e_simpleguest.c', 'e2e_probe.c', 'e2e_tracing.c'];
  // No sanitizers: the emulator switches stacks and catches SIGSEGV itself.
  await run(cc, [...hostFlags, '-o', e2e, ...sources.map((s) => join(pkg, 'test', 'native', s)), '-lm'], { maxBuffer: 64 << 20 });
});
if (existsSync(e2e) && Object.values(guests).every((f) => existsSync(f))) native('e2e', e2e, guests);

console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
