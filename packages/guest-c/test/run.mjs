/**
 * Test runner of @hyperlight-ts/guest-c (`pnpm test`). Needs `pnpm build`
 * first (turbo does that). Suites:
 *
 *  1. unit     - the guest libc and the FlatBuffers code compiled natively
 *                (libc symbols renamed hlt_* so they sit next to glibc) and
 *                compared against glibc / libm, under ASan+UBSan when available
 *  2. flatc    - our encoder's output read by flatc (the reference
 *                FlatBuffers implementation) and flatc's output read by our
 *                decoder (skipped when flatc is not installed)
 *  3. build    - buildCGuest, the CLI and the --print-* flags; the fixture
 *                guest checked with readelf: ET_DYN, no PT_INTERP, only
 *                R_X86_64_RELATIVE relocations
 *  4. e2e      - the fixture guests (simpleguest, tracedguest) and
 *                test/guests/{probe,trace_probe}.c run in an in-process host
 *                emulator (test/native/host_emulator.c); tracing records are
 *                checked byte for byte
 *  5. bench    - the per-call and tracing benchmark harnesses
 *                (test/bench-per-call.mjs, test/bench-tracing.mjs) build, and
 *                their checked first operation per case passes
 *
 * Ends with "N passed, M failed".
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join } from 'node:path';
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
let skipped = 0;
const pass = (name) => {
  passed++;
  console.log(`ok   ${name}`);
};
const fail = (name, why) => {
  failed++;
  console.log(`FAIL ${name}\n    ${String(why).trimEnd().split('\n').join('\n    ')}`);
};
const check = (name, cond, why = '') => (cond ? pass(name) : fail(name, why));
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    fail(name, e?.stderr || e?.stack || e);
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

async function compile(args) {
  await run(cc, args, { maxBuffer: 64 << 20 });
}

async function parallel(jobs) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]();
  };
  await Promise.all(Array.from({ length: availableParallelism() }, worker));
}

const { buildCGuest, verifyStaticPie, guestCFlags, GuestBuildError } = await import(join(pkg, 'dist', 'index.js'));
const gccInclude = (await run(cc, ['-print-file-name=include'])).stdout.trim();
const sanitize = spawnSync(cc, ['-fsanitize=address,undefined', '-x', 'c', '-', '-o', join(out, 'san-probe')], {
  input: 'int main(void){return 0;}',
}).status === 0
  ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=undefined']
  : [];
const hostFlags = ['-std=gnu11', '-O1', '-g', '-Wall', '-Wextra', '-Wno-missing-field-initializers', '-Wno-format-truncation', '-I', join(pkg, 'include')];

// ---- 1. unit --------------------------------------------------------------------
await step('unit: build', async () => {
  const objs = [];
  const jobs = [];
  for (const f of readdirSync(join(pkg, 'libc', 'src')).filter((f) => f.endsWith('.c'))) {
    const o = join(out, `libc-${basename(f, '.c')}.o`);
    objs.push(o);
    jobs.push(async () => {
      // Guest headers only, like the real build; then rename every symbol.
      await compile(['-std=gnu11', '-O2', '-g', '-Wall', '-Wextra', '-ffreestanding', '-fno-builtin', '-nostdinc', '-isystem', join(pkg, 'libc', 'include'),
        '-isystem', gccInclude, '-isystem', join(pkg, 'include'), '-fno-stack-protector', '-fno-tree-loop-distribute-patterns', '-c', join(pkg, 'libc', 'src', f), '-o', o]);
      await run('objcopy', ['--prefix-symbols=hlt_', o]);
    });
  }
  const hostSources = ['src/fb.c', 'src/wire.c', ...readdirSync(join(pkg, 'test', 'native')).filter((f) => /^(test_.*|check|stubs)\.c$/.test(f)).map((f) => `test/native/${f}`)];
  for (const s of hostSources) {
    const o = join(out, `host-${basename(s, '.c')}.o`);
    objs.push(o);
    jobs.push(() => compile([...hostFlags, ...sanitize, '-c', join(pkg, s), '-o', o]));
  }
  await parallel(jobs);
  await compile([...sanitize, '-o', join(out, 'unit'), ...objs, '-lm']);
});
if (existsSync(join(out, 'unit'))) native('unit', join(out, 'unit'), { ASAN_OPTIONS: 'detect_leaks=0' });

// ---- 2. flatc interop ------------------------------------------------------------
const schema = join(repo, 'schema');
const flatc = spawnSync('flatc', ['--version']).status === 0;
const tool = join(out, 'wire_tool');
await step('flatc: build wire_tool', () =>
  compile([...hostFlags, '-o', tool, join(pkg, 'test/native/wire_tool.c'), join(pkg, 'src/fb.c'), join(pkg, 'src/wire.c')]),
);
const schemaOf = { call: 'function_call.fbs', result: 'function_call_result.fbs', error: 'function_call_result.fbs', details: 'guest_function_details.fbs', log: 'log_record.fbs' };

/** flatc's JSON view of one of our size-prefixed binaries. */
async function flatcJson(kind, bin) {
  const dir = join(out, `json-${kind}`);
  mkdirSync(dir, { recursive: true });
  await run('flatc', ['--json', '--strict-json', '--defaults-json', '--raw-binary', '--size-prefixed', '-I', schema, '-o', dir, join(schema, schemaOf[kind]), '--', bin]);
  return JSON.parse(readFileSync(join(dir, `${basename(bin, '.bin')}.json`), 'utf8'));
}

const ourBinaries = {
  call: {
    function_name: 'Echo',
    arguments: [
      { value_type: 'I32Value', value: { value: -7 } },
      { value_type: 'U32Value', value: { value: 4000000000 } },
      { value_type: 'I64Value', value: { value: -9000000000000000000n } },
      { value_type: 'U64Value', value: { value: 18000000000000000000n } },
      { value_type: 'F32Value', value: { value: -0 } },
      { value_type: 'F64Value', value: { value: -0 } },
      { value_type: 'StringValue', value: { value: 'h\u00e9llo' } },
      { value_type: 'BoolValue', value: { value: false } },
      { value_type: 'BytesValue', value: { value: [1, 2, 255] } },
    ],
    return_type: 'I32',
  },
  result: { outcome_type: 'ReturnValue', outcome: { value_type: 'F64Value', value: { value: -0 } } },
  error: { outcome_type: 'CallError', outcome: { code: 'WrongArgumentType', message: 'bad type' } },
  details: {
    functions: [
      { name: 'Add', parameters: ['I32', 'I32'], return_type: 'I32' },
      { name: 'Nothing', parameters: [], return_type: 'Void' },
    ],
  },
  log: { level: 'Info', message: 'hello', target: 'guest', source_file: 'main.c', line: 7 },
};

/** Compares JSON trees; big integers and -0 are compared by their text. */
function sameJson(got, want) {
  if (typeof want === 'bigint') return typeof got === 'number' || typeof got === 'bigint' ? BigInt(Math.round(Number(got))) === want || String(got) === String(want) : false;
  if (typeof want === 'number' && Object.is(want, -0)) return Object.is(got, -0);
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => sameJson(got[i], w));
  if (want && typeof want === 'object') return got && typeof got === 'object' && Object.keys(want).every((k) => sameJson(got[k], want[k]));
  return got === want;
}

if (!flatc) {
  skipped += 2 * Object.keys(ourBinaries).length;
  console.log('skip flatc interop (flatc not installed; apt-get install flatbuffers-compiler)');
} else {
  for (const [kind, want] of Object.entries(ourBinaries)) {
    await step(`flatc reads our ${kind}`, async () => {
      const bin = join(out, `ours-${kind}.bin`);
      await run(tool, ['encode', kind, bin]);
      // JSON.parse loses 64-bit precision; compare exact integers in the raw text.
      const dir = join(out, `json-${kind}`);
      const got = await flatcJson(kind, bin);
      const raw = readFileSync(join(dir, `ours-${kind}.json`), 'utf8');
      const bigOk = kind !== 'call' || (raw.includes('-9000000000000000000') && raw.includes('18000000000000000000'));
      check(`flatc reads our ${kind}`, sameJson(got, want) && bigOk, JSON.stringify(got, null, 1));
    });
  }
  const theirs = {
    call: [ourBinaries.call, 'name Echo\nreturn 1\ni32 -7\nu32 4000000000\ni64 -9000000000000000000\nu64 18000000000000000000\nf32 -0\nf64 -0\nstring h\u00e9llo\nbool 0\nbytes 1 2 255\n'],
    result: [ourBinaries.result, 'f64 -0\n'],
    error: [ourBinaries.error, 'error 3 bad type\n'],
    // Scalars left at their defaults must read back as the defaults.
    defaults: [{ outcome_type: 'ReturnValue', outcome: { value_type: 'I32Value', value: {} } }, 'i32 0\n', 'result'],
    void: [{ outcome_type: 'ReturnValue', outcome: { value_type: 'VoidValue', value: {} } }, 'void\n', 'result'],
  };
  for (const [name, [json, want, kindOverride]] of Object.entries(theirs)) {
    await step(`we read flatc's ${name}`, async () => {
      const kind = kindOverride ?? name;
      const dir = join(out, `flatc-${name}`);
      mkdirSync(dir, { recursive: true });
      const input = join(dir, `${name}.json`);
      writeFileSync(input, JSON.stringify(json, (_, v) => (typeof v === 'bigint' ? `@@${v}@@` : Object.is(v, -0) ? '@@-0.0@@' : v)).replace(/"@@(.*?)@@"/g, '$1'));
      // --force-defaults: like our writers, store scalars equal to the default
      // (flatc would drop -0.0 == 0.0 otherwise); not for the defaults case.
      const force = name === 'defaults' ? [] : ['--force-defaults'];
      await run('flatc', ['-b', '--size-prefixed', ...force, '-I', schema, '-o', dir, join(schema, schemaOf[kind]), input]);
      const { stdout } = await run(tool, ['decode', kind === 'error' ? 'result' : kind, join(dir, `${name}.bin`)]);
      check(`we read flatc's ${name}`, stdout === want, `got:\n${stdout}want:\n${want}`);
    });
  }
}

// ---- 3. build ------------------------------------------------------------------------
// Built into this package's own output: fixtures/guests/out is shared with suites running in parallel.
const fixtureElf = join(out, 'c-simpleguest.elf');
await step('build: fixture guest (fixtures/guests/c/build.mjs)', async () => {
  rmSync(fixtureElf, { force: true });
  await run(process.execPath, [join(repo, 'fixtures', 'guests', 'c', 'build.mjs'), '--out-dir', out, 'simpleguest']);
  check('build: fixture guest (fixtures/guests/c/build.mjs)', existsSync(fixtureElf));
});
await step('build: readelf says static PIE with only RELATIVE relocations', async () => {
  const header = (await run('readelf', ['-hW', fixtureElf])).stdout;
  const segments = (await run('readelf', ['-lW', fixtureElf])).stdout;
  const relocs = (await run('readelf', ['-rW', fixtureElf])).stdout;
  const dynamic = (await run('readelf', ['-dW', fixtureElf])).stdout;
  const relocLines = relocs.split('\n').filter((l) => /^[0-9a-f]{8,}\s/.test(l));
  const problems = [];
  if (!/Type:\s+DYN/.test(header)) problems.push('not ET_DYN');
  if (/INTERP/.test(segments)) problems.push('has PT_INTERP');
  if (/NEEDED/.test(dynamic)) problems.push('has DT_NEEDED');
  if (relocLines.length === 0) problems.push('no relocations found (expected RELATIVE ones)');
  const other = relocLines.filter((l) => !/R_X86_64_RELATIVE/.test(l));
  if (other.length) problems.push(`non-RELATIVE relocations:\n${other.join('\n')}`);
  if (!/Entry point address:\s+0x[0-9a-f]+/.test(header)) problems.push('no entry point');
  const info = await verifyStaticPie(fixtureElf);
  if (info.relativeRelocations !== relocLines.length) problems.push(`verifyStaticPie counted ${info.relativeRelocations}, readelf ${relocLines.length}`);
  check('build: readelf says static PIE with only RELATIVE relocations', problems.length === 0, problems.join('\n'));
});

const cli = join(pkg, 'dist', 'cli.js');
const probeElf = join(out, 'probe.elf');
await step('build: CLI builds a guest', async () => {
  const { stdout } = await run(process.execPath, [cli, '-o', probeElf, '-O2', '-DPROBE=1', join(pkg, 'test', 'guests', 'probe.c')]);
  check('build: CLI builds a guest', stdout.trim() === probeElf && existsSync(probeElf), stdout);
});
await step('build: CLI flags drive a Makefile-style build', async () => {
  const flags = async (what) => (await run(process.execPath, [cli, `--print-${what}`])).stdout.trim();
  const [cflags, ldflags, libs] = [await flags('cflags'), await flags('ldflags'), await flags('libs')];
  const obj = join(out, 'mk-main.o');
  const elf = join(out, 'mk.elf');
  // Through a shell, as make would expand $(shell ...).
  await run('sh', ['-c', `${cc} ${cflags} -c '${join(repo, 'fixtures/guests/c/simpleguest/main.c')}' -o '${obj}' && ${cc} ${ldflags} -o '${elf}' '${obj}' ${libs}`]);
  const info = await verifyStaticPie(elf);
  check('build: CLI flags drive a Makefile-style build', /-ffreestanding/.test(cflags) && /-static-pie/.test(ldflags) && /libhyperlight_guest\.a/.test(libs) && info.relativeRelocations > 0);
});
await step('build: link/hyperlight.mk', async () => {
  if (spawnSync('make', ['--version']).status !== 0) {
    skipped++;
    console.log('skip build: link/hyperlight.mk (make not installed)');
    return;
  }
  const dir = join(out, 'make');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Makefile'), [
    `include ${join(pkg, 'link', 'hyperlight.mk')}`,
    'guest.elf: main.o',
    '\t$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS)',
    `main.o: ${join(repo, 'fixtures/guests/c/simpleguest/main.c')}`,
    '\t$(CC) $(HL_CFLAGS) -c $< -o $@',
    '',
  ].join('\n'));
  await run('make', ['-C', dir, `CC=${cc}`]);
  const info = await verifyStaticPie(join(dir, 'guest.elf'));
  check('build: link/hyperlight.mk', info.relativeRelocations > 0);
});
await step('build: CMake recipe of the README', async () => {
  if (spawnSync('cmake', ['--version']).status !== 0) {
    skipped++;
    console.log('skip build: CMake recipe (cmake not installed)');
    return;
  }
  const dir = join(out, 'cmake');
  mkdirSync(dir, { recursive: true });
  const main = join(repo, 'fixtures/guests/c/simpleguest/main.c');
  writeFileSync(join(dir, 'CMakeLists.txt'), `cmake_minimum_required(VERSION 3.20)
project(guest C)
set(HL_BUILD "${process.execPath}" "${cli}")
foreach(kind cflags ldflags libs)
  execute_process(COMMAND \${HL_BUILD} --print-\${kind} OUTPUT_VARIABLE out OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  separate_arguments(HL_\${kind} UNIX_COMMAND "\${out}")
endforeach()
add_executable(guest.elf "${main}")
target_compile_options(guest.elf PRIVATE \${HL_cflags})
target_link_options(guest.elf PRIVATE \${HL_ldflags})
target_link_libraries(guest.elf PRIVATE \${HL_libs})
`);
  await run('cmake', ['-S', dir, '-B', join(dir, 'b'), `-DCMAKE_C_COMPILER=${cc}`]);
  await run('cmake', ['--build', join(dir, 'b')]);
  const info = await verifyStaticPie(join(dir, 'b', 'guest.elf'));
  check('build: CMake recipe of the README', info.relativeRelocations > 0);
});
await step('build: CLI reports errors', async () => {
  const bad = join(out, 'bad.c');
  writeFileSync(bad, 'void hyperlight_main(void) { this is not C; }\n');
  const r1 = spawnSync(process.execPath, [cli, '-o', join(out, 'bad.elf'), bad], { encoding: 'utf8' });
  const r2 = spawnSync(process.execPath, [cli, bad], { encoding: 'utf8' });
  const r3 = spawnSync(process.execPath, [cli, '--frobnicate'], { encoding: 'utf8' });
  check('build: CLI reports errors', r1.status === 1 && /error:/.test(r1.stderr) && r2.status === 2 && /-o is required/.test(r2.stderr) && r3.status === 2,
    `${r1.status} ${r1.stderr}\n${r2.status} ${r2.stderr}\n${r3.status} ${r3.stderr}`);
});
await step('build: buildCGuest throws GuestBuildError', async () => {
  let caught;
  try {
    await buildCGuest({ sources: [join(out, 'bad.c')], outFile: join(out, 'bad.elf') });
  } catch (e) {
    caught = e;
  }
  const noMain = join(out, 'nomain.c');
  writeFileSync(noMain, 'int x;\n');
  let caught2;
  try {
    await buildCGuest({ sources: [noMain], outFile: join(out, 'nomain.elf') });
  } catch (e) {
    caught2 = e;
  }
  check('build: buildCGuest throws GuestBuildError',
    caught instanceof GuestBuildError && caught.code === 'HL_ERR_GUEST_BUILD_FAILED' && /error:/.test(caught.output) &&
      caught2 instanceof GuestBuildError && /hyperlight_main/.test(caught2.output),
    `${caught}\n${caught2}`);
});
await step('build: frame pointers and defines reach the compiler', async () => {
  const plain = await guestCFlags();
  const kept = await guestCFlags({ framePointers: true });
  const printed = (await run(process.execPath, [cli, '--print-cflags', '--frame-pointers'])).stdout;
  const src = join(out, 'fp.c');
  // Compiles only when both flags arrive: HL_TRACE from `defines`, the frame pointer from `framePointers`.
  writeFileSync(src, '#include <hyperlight/trace.h>\n#ifndef HL_TRACE\n#error no HL_TRACE\n#endif\n' +
    'void hyperlight_main(void) { HL_TRACE_FUNCTION(); }\n');
  const elf = await buildCGuest({ sources: [src], outFile: join(out, 'fp.elf'), defines: { HL_TRACE: true }, framePointers: true });
  const dump = (await run('objdump', ['-d', '--no-show-raw-insn', elf], { maxBuffer: 64 << 20 })).stdout;
  const body = /<hyperlight_main>:\n([\s\S]*?)\n\n/.exec(dump)?.[1] ?? '';
  const main = /push\s+%rbp/.test(body) && /mov\s+%rsp,%rbp/.test(body);
  check('build: frame pointers and defines reach the compiler',
    !plain.some((f) => /omit-(leaf-)?frame-pointer/.test(f)) &&
      kept.includes('-fno-omit-frame-pointer') && kept.includes('-mno-omit-leaf-frame-pointer') &&
      /-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer/.test(printed) && main,
    `${kept.join(' ')}\n${printed}\nhyperlight_main keeps rbp: ${main}`);
});
await step('build: buildCGuest options', async () => {
  const src = join(out, 'opts.c');
  mkdirSync(join(out, 'inc'), { recursive: true });
  writeFileSync(join(out, 'inc', 'opts.h'), '#define FROM_HEADER 1\n');
  writeFileSync(src, '#include <hyperlight/guest.h>\n#include "opts.h"\n#if !FROM_HEADER || ANSWER != 42 || !defined(FLAG)\n#error options not applied\n#endif\nvoid hyperlight_main(void) {}\n');
  const elf = await buildCGuest({ sources: [src], outFile: join(out, 'nested', 'opts.elf'), includeDirs: [join(out, 'inc')], defines: { ANSWER: 42, FLAG: true, OFF: false }, optimize: 's', debug: true });
  const cflags = await guestCFlags({ optimize: 3 });
  check('build: buildCGuest options', existsSync(elf) && cflags[0] === '-O3');
});

// ---- 4. e2e -----------------------------------------------------------------------------
const tracedElf = join(out, 'c-tracedguest.elf');
const traceProbeElf = join(out, 'trace_probe.elf');
await step('build: tracing guests', async () => {
  await run(process.execPath, [join(repo, 'fixtures', 'guests', 'c', 'build.mjs'), '--out-dir', out, 'tracedguest']);
  // Without HL_TRACE: its macros must compile to nothing; the functions still record.
  await buildCGuest({ sources: [join(pkg, 'test', 'guests', 'trace_probe.c')], outFile: traceProbeElf, framePointers: true, cflags: ['-Wall', '-Wextra', '-Werror'] });
  check('build: tracing guests', existsSync(tracedElf) && existsSync(traceProbeElf));
});
await step('e2e: build', async () => {
  const sources = ['src/fb.c', 'src/wire.c', 'test/native/check.c', 'test/native/host_emulator.c', 'test/native/e2e_simpleguest.c', 'test/native/e2e_probe.c',
    'test/native/e2e_tracing.c'];
  // No sanitizers: the emulator switches stacks and catches SIGSEGV itself.
  await compile([...hostFlags, '-o', join(out, 'e2e'), ...sources.map((s) => join(pkg, s)), '-lm']);
});
if (existsSync(join(out, 'e2e')) && [fixtureElf, probeElf, tracedElf, traceProbeElf].every((f) => existsSync(f))) {
  native('e2e', join(out, 'e2e'), { HL_SIMPLEGUEST: fixtureElf, HL_PROBE: probeElf, HL_TRACEDGUEST: tracedElf, HL_TRACE_PROBE: traceProbeElf });
}

// ---- 5. bench harness --------------------------------------------------------------------
await step('bench: per-call harness checks its results', async () => {
  const env = { ...process.env, HYPERLIGHT_BENCH_SAMPLES: '1', HYPERLIGHT_BENCH_BATCH: '1' };
  const { stdout } = await run(process.execPath, [join(pkg, 'test', 'bench-per-call.mjs')], { env });
  const cases = Object.keys(JSON.parse(stdout).samples);
  check('bench: per-call harness checks its results', cases.length === 4, stdout);
});
await step('bench: tracing harness checks its records', async () => {
  const env = { ...process.env, HYPERLIGHT_BENCH_SAMPLES: '1', HYPERLIGHT_BENCH_BATCH: '1' };
  const { stdout } = await run(process.execPath, [join(pkg, 'test', 'bench-tracing.mjs')], { env });
  check('bench: tracing harness checks its records', Object.keys(JSON.parse(stdout).samples).length === 6, stdout);
});

console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed ? 1 : 0);
