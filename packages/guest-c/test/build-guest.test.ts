/** buildCGuest (src/build-guest.ts) and its CLI (src/cli.ts). */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { buildCGuest, GuestBuildError, guestCFlags, requireGuestLibraries } from '../src/index.js';
import { BUILD_CLI, fsAccesses, readelfProblems, REPO, run, scratchDir, SIMPLEGUEST_C } from './helpers.js';

let dir: string;
beforeAll(() => {
  requireGuestLibraries();
  dir = scratchDir('build');
  writeFileSync(join(dir, 'warn.c'), '#include <hyperlight/guest.h>\nvoid hyperlight_main(void) { int unused; }\n');
  writeFileSync(join(dir, 'bad.c'), 'void hyperlight_main(void) { this is not C; }\n');
});

describe('buildCGuest', () => {
  it('builds the C simpleguest into a guest that passes the readelf checks', async () => {
    const elf = await buildCGuest({ sources: [SIMPLEGUEST_C], outFile: join(dir, 'simpleguest.elf'), onOutput: () => {} });
    expect(readelfProblems(elf)).toEqual([]);
  });

  it('takes ordinary compiler flags and hands the warnings to onOutput', async () => {
    mkdirSync(join(dir, 'inc'), { recursive: true });
    writeFileSync(join(dir, 'inc', 'opts.h'), '#define FROM_HEADER 1\n');
    writeFileSync(join(dir, 'opts.c'), `#include <hyperlight/guest.h>
#include "opts.h"
#if !FROM_HEADER || ANSWER != 42 || !defined(FLAG) || defined(OFF) || defined(GONE) || !defined(INCLUDED)
#error options not applied
#endif
void hyperlight_main(void) { int unused; }
`);
    writeFileSync(join(dir, 'forced.h'), '#define INCLUDED 1\n');
    const output: string[] = [];
    const elf = await buildCGuest({
      sources: [join(dir, 'opts.c')],
      outFile: join(dir, 'nested', 'opts.elf'),
      includeDirs: [join(dir, 'inc')],
      defines: { ANSWER: 42, FLAG: true, OFF: false, GONE: 1 },
      optimize: 's',
      debug: true,
      cflags: ['-std=c99', '-pedantic', '-Wall', '-UGONE', '-include', join(dir, 'forced.h'), '-fstack-protector-strong', '-Wl,-z,now', '-lm'],
      onOutput: (text) => output.push(text),
    });
    expect(existsSync(elf)).toBe(true);
    expect(output.join('')).toMatch(/opts\.c:6:.*warning: unused variable .unused./);
    expect(fsAccesses(elf)).toEqual([]);
  });

  it("reports a failed compile with the compiler's diagnostics", async () => {
    const error = await buildCGuest({ sources: [join(dir, 'bad.c')], outFile: join(dir, 'bad.elf') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GuestBuildError);
    expect((error as GuestBuildError).code).toBe('HL_ERR_GUEST_BUILD_FAILED');
    expect((error as GuestBuildError).output).toMatch(/bad\.c:1:.*error:/);
    expect((error as GuestBuildError).command?.[0]).toBe('gcc');
  });

  it('links a guest without hyperlight_main (the runtime has a default)', async () => {
    writeFileSync(join(dir, 'nomain.c'), 'int x;\n');
    expect(readelfProblems(await buildCGuest({ sources: [join(dir, 'nomain.c')], outFile: join(dir, 'nomain.elf') }))).toEqual([]);
  });

  it('keeps frame pointers when asked', async () => {
    const plain = await guestCFlags();
    const kept = await guestCFlags({ framePointers: true });
    expect(plain.some((f) => /omit-(leaf-)?frame-pointer/.test(f))).toBe(false);
    expect(kept).toEqual(expect.arrayContaining(['-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer']));
    writeFileSync(join(dir, 'fp.c'), '#include <hyperlight/guest.h>\n#include <stdio.h>\nint fp_work(int x) { return printf("%d", x) + x; }\nvoid hyperlight_main(void) {}\n');
    const elf = await buildCGuest({ sources: [join(dir, 'fp.c')], outFile: join(dir, 'fp.elf'), framePointers: true, cflags: ['-Wl,--undefined=fp_work'] });
    const body = /<fp_work>:\n([\s\S]*?)\n\n/.exec(run('objdump', ['-d', '--no-show-raw-insn', elf]).stdout)?.[1] ?? '';
    expect(body).toMatch(/push\s+%rbp/);
  });
});

describe('hyperlight-build-c-guest', () => {
  it('builds a guest, passing unknown flags to the compiler and warnings to stderr', () => {
    const out = join(dir, 'cli.elf');
    const r = run(BUILD_CLI, ['-o', out, '-std=c99', '-pedantic', '-Wall', '-Wextra', '-O3', '-g', '-DX=1', '-UX', '-x', 'c', join(dir, 'warn.c')]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    expect(r.stderr).toMatch(/warning: unused variable .unused./);
    expect(readelfProblems(out)).toEqual([]);
  });

  it('prints the flags for a build system that calls the compiler itself', () => {
    const print = (what: string, ...extra: string[]): string => run(BUILD_CLI, [`--print-${what}`, ...extra]).stdout.trim();
    const cflags = print('cflags', '--frame-pointers');
    expect(cflags).toMatch(/^-O2 -nostdinc -isystem\S+\/dist\/libc\/include -isystem\S+ -isystem\S+\/include .*-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -mstack-protector-guard=global$/);
    expect(print('ldflags')).toMatch(/-static-pie .*-Wl,--entry=hyperlight_entry/);
    expect(print('libs')).toMatch(/^-Wl,--start-group \S+libhyperlight_guest\.a \S+libc\.a -lgcc -Wl,--end-group$/);
  });

  it('exits 1 with the diagnostics on a failed build, 2 on bad usage', () => {
    const failed = run(BUILD_CLI, ['-o', join(dir, 'bad.elf'), join(dir, 'bad.c')]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/compiling .*bad\.c failed\n[\s\S]*bad\.c:1:\d+: error:/);
    const noOut = run(BUILD_CLI, [join(dir, 'bad.c')]);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/-o is required/);
    const refused = run(BUILD_CLI, ['-o', join(dir, 'x.elf'), '-shared', join(dir, 'warn.c')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/-shared is not supported/);
  });
});

describe('fixtures/guests/c/build.mjs', () => {
  it('builds the C fixtures and prints each build time', () => {
    const out = join(dir, 'fixtures');
    const r = run(process.execPath, [join(REPO, 'fixtures', 'guests', 'c', 'build.mjs'), '--out-dir', out, 'simpleguest', 'tracedguest']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/c-simpleguest\.elf: built in \d+\.\d\d s, static PIE/);
    expect(readelfProblems(join(out, 'c-simpleguest.elf'))).toEqual([]);
    expect(readelfProblems(join(out, 'c-tracedguest.elf'))).toEqual([]);
  });
});
