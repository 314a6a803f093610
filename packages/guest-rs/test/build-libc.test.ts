/**
 * The C library that tools/build-libc.mjs puts in dist/libc, tried natively:
 * a small program is linked with libc.a and a stand-in for the guest runtime
 * (test/fixtures/libc-smoke/stand_in_runtime.c: the runtime's symbols, output
 * and exit through the host kernel) and run as a Linux process. This proves
 * the build without a hypervisor or the Rust runtime.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { guestNativeLibraries } from '../src/index.js';
import { fixture, packageDir } from './helpers.js';

const libs = guestNativeLibraries();
const smokeDir = fixture('libc-smoke');
let workDir = '';
let program = '';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(program, args, { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dist/libc (musl for guests)', () => {
  beforeAll(() => {
    if (!existsSync(libs.libcArchive)) throw new Error(`${libs.libcArchive} is missing: run \`pnpm --filter @hyperlight-ts/guest-rs build\` first`);
    workDir = mkdtempSync(join(tmpdir(), 'hl-libc-smoke-'));
    const gccInclude = execFileSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).trim();
    // The C guest compile flags of the contract (hosted, musl's headers first), warnings as errors.
    const cflags = ['-nostdinc', `-isystem${libs.libcIncludeDir}`, `-isystem${gccInclude}`, '-fPIE', '-mno-red-zone', '-O2'];
    cflags.push('-fno-asynchronous-unwind-tables', '-ffunction-sections', '-fdata-sections', '-Wall', '-Wextra', '-Werror');
    const compile = (name: string, extra: string[] = []): string => {
      const out = join(workDir, `${name}.o`);
      execFileSync('gcc', [...cflags, ...extra, '-c', join(smokeDir, `${name}.c`), '-o', out]);
      return out;
    };
    const objects = [compile('stand_in_runtime'), compile('smoke', ['-fstack-protector-all', '-mstack-protector-guard=global'])];
    program = join(workDir, 'smoke');
    // A plain static executable: the stand-in has no self-relocating entry, so not a static PIE like a guest.
    execFileSync('gcc', ['-static', '-no-pie', '-nostdlib', '-nostartfiles', '-Wl,--gc-sections', '-o', program, ...objects]
      .concat(['-Wl,--start-group', libs.libcArchive, '-lgcc', '-Wl,--end-group']));
  });

  afterAll(() => {
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('formats, parses, jumps, sorts and computes as glibc does, and fails files and system() with errno', () => {
    const r = run('basics');
    expect(r.stderr).toBe('to stderr\n');
    expect(r.stdout.split('\n')).toEqual([
      '-42 str 3.142 1e-05 0x1p+0 0.10000000000000001',
      'strtod hex 3',
      'sscanf 17 2.5 word',
      'snprintf 1.235e+04|7    |ff',
      'longjmp 42',
      'qsort 1 3 5 9, bsearch index 3',
      'locale C, decimal point .',
      'sin 0.8414709848078965 sqrt 1.4142135623730951',
      'fopen NULL errno 2 No such file or directory',
      'system(NULL) 0',
      'system("ls") -1 errno Function not implemented',
      'time positive 1',
      'strdup heap string',
      '',
    ]);
    expect(r.status).toBe(0);
  });

  it('abort() ends the run through __hl_abort with ABORT_CODE_PANIC; the abort path flushes stdout, so nothing is lost', () => {
    const r = run('abort');
    expect(r.stdout).toBe('before abort');
    expect(r.stderr).toBe('guest abort: abort() called\n');
    expect(r.status).toBe(70);
  });

  it('a smashed stack (guard in __stack_chk_guard, not %fs) ends the run through __hl_abort', () => {
    const r = run('smash', 'x'.repeat(40));
    expect(r.stderr).toBe('guest abort: stack smashing detected\n');
    expect(r.status).toBe(70);
  });

  it('exit() runs the atexit handlers, then makes the exit_group system call', () => {
    const r = run('exit');
    expect(r.stdout).toBe('atexit handler ran\n');
    expect(r.status).toBe(3);
  });

  it('ships musl headers and its licence', () => {
    for (const header of ['stdio.h', 'math.h', 'setjmp.h', 'locale.h', 'bits/alltypes.h', 'sys/types.h']) {
      expect(existsSync(join(libs.libcIncludeDir, header)), header).toBe(true);
    }
    expect(readFileSync(join(libs.libcIncludeDir, '..', 'COPYRIGHT'), 'utf8')).toMatch(/musl/);
  });

  it('the glue aborts with the ABI panic code', () => {
    const abi = JSON.parse(readFileSync(join(packageDir, '..', '..', 'schema', 'abi.json'), 'utf8')) as {
      constants: { name: string; value: string | number }[];
    };
    const panic = abi.constants.find((c) => c.name === 'ABORT_CODE_PANIC');
    const header = readFileSync(join(packageDir, 'libc', 'glue', 'hl_runtime.h'), 'utf8');
    const glued = /#define HL_ABORT_CODE_PANIC (0x[0-9a-f]+)u/.exec(header)?.[1];
    expect(glued && Number(glued)).toBe(Number(panic?.value));
  });
});
