/**
 * hyperlight-cc (src/cc.ts) run as build systems run it: compile flags and
 * dependency files, warnings and exit codes passed through, links that yield
 * loadable guests, and whole Make and CMake builds of the C simpleguest.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { guestCPaths, requireGuestLibraries, verifyStaticPie } from '../src/index.js';
import { cc, fsAccesses, have, HYPERLIGHT_CC, PKG, readelfProblems, run, scratchDir, SIMPLEGUEST_C } from './helpers.js';

/** C89 code that includes most of the C library's headers; -pedantic -Werror must accept them. */
const C89_SOURCE = `#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <hyperlight/guest.h>
#include <hyperlight/trace.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifndef FROM_INCLUDE
#error -include did not reach the compiler
#endif
#ifdef REMOVED
#error -U did not reach the compiler
#endif
static jmp_buf where;
double c89_work(const char *text) {
  char buffer[64];
  int exponent;
  double value = strtod(text, NULL);
  if (setjmp(where) != 0) return -1.0;
  sprintf(buffer, "%g %s", frexp(value, &exponent) + ldexp(1.0, 3), setlocale(LC_ALL, "C"));
  return sqrt(value) + (double)strlen(buffer) + (double)clock() + (double)time(NULL);
}
`;

const GUEST_SOURCE = `#include <hyperlight/guest.h>
#include <math.h>
#include <stdio.h>
static hl_result root(const hl_call *call) { return hl_ok(hl_f64(sqrt(hl_arg_f64(call, 0)))); }
void hyperlight_main(void) { hl_register_function("Root", root, HL_TYPE_F64, 1, HL_TYPE_F64); }
`;

describe('hyperlight-cc', () => {
  let dir: string;
  beforeAll(() => {
    requireGuestLibraries();
    dir = scratchDir('cc');
    writeFileSync(join(dir, 'c89.c'), C89_SOURCE);
    writeFileSync(join(dir, 'cfg.h'), '#define FROM_INCLUDE 1\n');
    writeFileSync(join(dir, 'guest.c'), GUEST_SOURCE);
  });

  it('compiles C89 with -pedantic -Wall -Wextra -Werror, -include and -U against musl', () => {
    const r = cc(['-std=c89', '-pedantic', '-Wall', '-Wextra', '-Werror', '-include', join(dir, 'cfg.h'), '-DREMOVED', '-UREMOVED', '-O2', '-c', 'c89.c', '-o', 'c89.o'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'c89.o'))).toBe(true);
  });

  it.each(['c99', 'c11', 'gnu11'])('compiles -std=%s', (std) => {
    const r = cc([`-std=${std}`, '-Wall', '-Werror', '-include', 'cfg.h', '-c', 'c89.c', '-o', `${std}.o`], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('writes dependency files (-MMD -MF, -M) that name musl headers, not the host', () => {
    const r = cc(['-MMD', '-MF', 'guest.d', '-MT', 'guest.o', '-c', 'guest.c', '-o', 'guest.o'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'guest.d'), 'utf8')).toMatch(/^guest\.o: guest\.c/);
    const all = cc(['-M', 'guest.c'], { cwd: dir });
    expect(all.status).toBe(0);
    expect(all.stdout).toContain(join(guestCPaths().libcIncludeDir, 'stdio.h'));
    expect(all.stdout).toContain(join(guestCPaths().includeDir, 'hyperlight', 'guest.h'));
    expect(all.stdout).not.toMatch(/\/usr\/include\//);
  });

  it('preprocesses (-E) from stdin with musl headers', () => {
    const r = cc(['-E', '-x', 'c', '-'], { cwd: dir, input: '#include <stdio.h>\nint probe = BUFSIZ;\n' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(join(guestCPaths().libcIncludeDir, 'stdio.h'));
    expect(cc(['-E', '-P', '-x', 'c', '-'], { cwd: dir, input: '#include <stdio.h>\nint probe = BUFSIZ;\n' }).stdout).toMatch(/int probe = 1024;/);
  });

  it('answers queries as the real compiler does', () => {
    expect(cc(['-dumpmachine']).stdout).toBe(run('gcc', ['-dumpmachine']).stdout);
    expect(cc(['--version']).stdout).toBe(run('gcc', ['--version']).stdout);
    expect(cc(['-print-file-name=include']).stdout).toBe(run('gcc', ['-print-file-name=include']).stdout);
  });

  it('shows warnings on stderr and exits 0', () => {
    writeFileSync(join(dir, 'warn.c'), 'int warn(void) { int unused; return 0; }\n');
    const r = cc(['-Wall', '-c', 'warn.c', '-o', 'warn.o'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warn\.c:1:.*warning: unused variable .unused./);
  });

  it("passes the compiler's and the linker's failures through", () => {
    writeFileSync(join(dir, 'bad.c'), 'int bad(void) { this is not C; }\n');
    const compile = cc(['-c', 'bad.c', '-o', 'bad.o'], { cwd: dir });
    expect(compile.status).toBe(1);
    expect(compile.stderr).toMatch(/bad\.c:1:.*error:/);
    writeFileSync(join(dir, 'undef.c'), 'int missing(void);\nvoid hyperlight_main(void) { missing(); }\n');
    const link = cc(['undef.c', '-o', 'undef.elf'], { cwd: dir });
    expect(link.status).toBe(1);
    expect(link.stderr).toMatch(/undefined reference to .missing./);
  });

  it('links a guest that passes the readelf checks, with -lm dropped', () => {
    const r = cc(['-O2', '-Wall', '-Werror', 'guest.c', '-o', 'guest.elf', '-lm', '-lpthread'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readelfProblems(join(dir, 'guest.elf'))).toEqual([]);
  });

  it('links a program without hyperlight_main (compiler checks of build systems)', async () => {
    writeFileSync(join(dir, 'plain.c'), 'int main(void) { return 0; }\n');
    const r = cc(['plain.c'], { cwd: dir });
    expect(r.status).toBe(0);
    expect((await verifyStaticPie(join(dir, 'a.out'))).relativeRelocations).toBeGreaterThanOrEqual(0);
  });

  it('compiles -fstack-protector-strong to the global guard, never %fs', () => {
    writeFileSync(join(dir, 'ssp.c'), `#include <hyperlight/guest.h>
#include <string.h>
static hl_result copy(const hl_call *call) {
  char buffer[256];
  strcpy(buffer, hl_arg_string(call, 0, NULL));
  return hl_ok(hl_string_copy(buffer));
}
void hyperlight_main(void) { hl_register_function("Copy", copy, HL_TYPE_STRING, 1, HL_TYPE_STRING); }
`);
    const r = cc(['-O2', '-fstack-protector-strong', 'ssp.c', '-o', 'ssp.elf'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const dump = run('objdump', ['-d', '--no-show-raw-insn', join(dir, 'ssp.elf')]).stdout;
    expect(/<copy>:[\s\S]*?__stack_chk_fail/.test(dump)).toBe(true);
    expect(fsAccesses(join(dir, 'ssp.elf'))).toEqual([]);
    expect(readelfProblems(join(dir, 'ssp.elf'))).toEqual([]);
  });

  it('refuses flags that cannot build a guest', () => {
    const r = cc(['-shared', '-fPIC', 'guest.c', '-o', 'libguest.so'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^hyperlight-cc: -shared is not supported: a guest is one static PIE/);
  });

  it('deletes a linked file that is not a loadable guest', () => {
    const r = cc(['guest.c', '-o', 'wrong-entry.elf', '-Wl,--entry=hyperlight_main'], { cwd: dir });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/wrong-entry\.elf is not a static-PIE x86-64 guest: the entry point .* is not hyperlight_entry/);
    expect(existsSync(join(dir, 'wrong-entry.elf'))).toBe(false);
  });

  it('runs the compiler named by --cc or $HYPERLIGHT_CC, and never itself', () => {
    expect(cc(['--cc', 'no-such-compiler-here', '-c', 'guest.c'], { cwd: dir }).stderr).toMatch(/cannot run the C compiler "no-such-compiler-here"/);
    expect(cc(['-c', 'guest.c'], { cwd: dir, env: { HYPERLIGHT_CC: 'no-such-compiler-here' } }).status).toBe(1);
    const loop = cc(['-c', 'guest.c'], { cwd: dir, env: { HYPERLIGHT_CC: HYPERLIGHT_CC } });
    expect(loop.status).toBe(1);
    expect(loop.stderr).toMatch(/the real compiler is hyperlight-cc itself/);
  });
});

describe.skipIf(!have('make'))('hyperlight-cc from Make', () => {
  it('builds the C simpleguest with plain CC=hyperlight-cc and implicit rules', async () => {
    requireGuestLibraries();
    const dir = scratchDir('make');
    copyFileSync(SIMPLEGUEST_C, join(dir, 'main.c'));
    writeFileSync(join(dir, 'Makefile'), 'guest.elf: main.o\n\t$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)\n');
    const r = run('make', ['-C', dir, `CC=${HYPERLIGHT_CC}`, 'CFLAGS=-O2 -g -Wall', 'LDLIBS=-lm']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readelfProblems(join(dir, 'guest.elf'))).toEqual([]);
    expect((await verifyStaticPie(join(dir, 'guest.elf'))).loadSegments).toBeGreaterThan(1);
  });

  it('builds it with link/hyperlight.mk and the real compiler', () => {
    const dir = scratchDir('make-mk');
    writeFileSync(join(dir, 'Makefile'), [
      `include ${join(PKG, 'link', 'hyperlight.mk')}`,
      'guest.elf: main.o',
      '\t$(CC) $(HL_LDFLAGS) -o $@ $^ $(HL_LIBS)',
      `main.o: ${SIMPLEGUEST_C}`,
      '\t$(CC) $(HL_CFLAGS) $(CFLAGS) -c $< -o $@',
      '',
    ].join('\n'));
    const r = run('make', ['-C', dir, 'CC=gcc', 'CFLAGS=-Wall']);
    expect(r.status).toBe(0);
    expect(readelfProblems(join(dir, 'guest.elf'))).toEqual([]);
  });
});

describe.skipIf(!have('cmake'))('hyperlight-cc from CMake', () => {
  const project = (dir: string): void => {
    copyFileSync(SIMPLEGUEST_C, join(dir, 'main.c'));
    writeFileSync(join(dir, 'CMakeLists.txt'), `cmake_minimum_required(VERSION 3.20)
project(guest C)
include(CheckFunctionExists)
include(CheckIncludeFile)
check_include_file(setjmp.h HAVE_SETJMP_H)
check_function_exists(strtod HAVE_STRTOD)
check_function_exists(no_such_function_anywhere HAVE_NO_SUCH_FUNCTION)
if(NOT HAVE_SETJMP_H OR NOT HAVE_STRTOD OR HAVE_NO_SUCH_FUNCTION)
  message(FATAL_ERROR "compiler checks gave wrong answers")
endif()
add_library(parts STATIC main.c)
add_executable(guest.elf main.c)
target_compile_options(guest.elf PRIVATE -Wall)
target_link_libraries(guest.elf PRIVATE m)
`);
  };

  it('builds the C simpleguest with the toolchain file', () => {
    requireGuestLibraries();
    const dir = scratchDir('cmake-toolchain');
    project(dir);
    const configure = run('cmake', ['-S', dir, '-B', join(dir, 'b'), `-DCMAKE_TOOLCHAIN_FILE=${join(PKG, 'link', 'hyperlight-toolchain.cmake')}`]);
    expect(configure.stderr).toBe('');
    expect(configure.status).toBe(0);
    expect(configure.stdout).toMatch(/The C compiler identification is GNU/);
    const build = run('cmake', ['--build', join(dir, 'b')]);
    expect(build.status).toBe(0);
    expect(readelfProblems(join(dir, 'b', 'guest.elf'))).toEqual([]);
  });

  it('builds it with plain CC=hyperlight-cc', () => {
    const dir = scratchDir('cmake-cc');
    project(dir);
    const configure = run('cmake', ['-S', dir, '-B', join(dir, 'b')], { env: { CC: HYPERLIGHT_CC } });
    expect(configure.status).toBe(0);
    const build = run('cmake', ['--build', join(dir, 'b')]);
    expect(build.status).toBe(0);
    expect(readelfProblems(join(dir, 'b', 'guest.elf'))).toEqual([]);
  });
});
