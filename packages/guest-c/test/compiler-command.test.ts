import { describe, expect, it } from 'vitest';

import { guestCompilerCommand, GuestBuildError, guestLibs, isLinkOption, splitCompilerArgs, GUEST_TRAILING_CFLAGS } from '../src/index.js';

describe('splitCompilerArgs', () => {
  it('keeps option values apart from input files', () => {
    const args = splitCompilerArgs(['-include', 'cfg.h', '-I', 'inc', '-Idir', '-MF', 'x.d', '-o', 'x.o', '-DA=1', '-U', 'B', '-x', 'c', 'main.c', '-']);
    expect(args.filter((a) => a.option === undefined).map((a) => a.words[0])).toEqual(['main.c', '-']);
    expect(args.find((a) => a.option === '-include')?.value).toBe('cfg.h');
    expect(args.filter((a) => a.option === '-I').map((a) => a.value)).toEqual(['inc', 'dir']);
    expect(args.find((a) => a.option === '-U')?.value).toBe('B');
    expect(args.find((a) => a.option === '-D')?.value).toBe('A=1');
    expect(args.flatMap((a) => a.words)).toEqual(['-include', 'cfg.h', '-I', 'inc', '-Idir', '-MF', 'x.d', '-o', 'x.o', '-DA=1', '-U', 'B', '-x', 'c', 'main.c', '-']);
  });

  it('tells link options from compile-only ones', () => {
    const link = splitCompilerArgs(['-lz', '-L', 'lib', '-Wl,--gc-sections', '-O2', '-flto', '-static', '-Wall', '-Iinc', '-std=c99', '-include', 'x.h']).filter(isLinkOption);
    expect(link.flatMap((a) => a.words)).toEqual(['-lz', '-L', 'lib', '-Wl,--gc-sections', '-O2', '-flto', '-static']);
  });
});

describe('guestCompilerCommand', () => {
  it('compiles with the guest flags around the user flags, the stack guard last', async () => {
    const { args, linkedFile } = await guestCompilerCommand(['-std=c89', '-pedantic', '-fstack-protector-strong', '-mstack-protector-guard=tls', '-c', 'a.c']);
    expect(linkedFile).toBeUndefined();
    expect(args[0]).toBe('-nostdinc');
    expect(args).toContain('-fPIE');
    expect(args.slice(-GUEST_TRAILING_CFLAGS.length)).toEqual(GUEST_TRAILING_CFLAGS);
    expect(args.indexOf('-std=c89')).toBeGreaterThan(args.indexOf('-fPIE'));
    expect(args).not.toContain('-static-pie');
  });

  it('links with the runtime and musl in one group, after everything else', async () => {
    const { args, linkedFile } = await guestCompilerCommand(['-x', 'c', 'main.c', '-o', 'guest.elf', '-lz']);
    expect(linkedFile).toBe('guest.elf');
    expect(args).toContain('-static-pie');
    expect(args).toContain('-Wl,--entry=hyperlight_entry');
    expect(args.slice(-guestLibs().length - 2)).toEqual(['-x', 'none', ...guestLibs()]);
    expect(guestLibs()).toEqual(['-Wl,--start-group', expect.stringMatching(/libhyperlight_guest\.a$/), expect.stringMatching(/libc\.a$/), '-lgcc', '-Wl,--end-group']);
  });

  it('links to a.out by default, and verifies nothing on a dry run', async () => {
    expect((await guestCompilerCommand(['main.c'])).linkedFile).toBe('a.out');
    expect((await guestCompilerCommand(['-###', 'main.c'])).linkedFile).toBeUndefined();
  });

  it.each([['-c'], ['-S'], ['-E'], ['-M'], ['-MM'], ['-fsyntax-only'], ['--version'], ['-dumpmachine'], ['-print-file-name=include'], ['-r']])(
    'does not link with %s',
    async (flag) => {
      const { args, linkedFile } = await guestCompilerCommand([flag, 'main.c']);
      expect(linkedFile).toBeUndefined();
      expect(args).not.toContain('-static-pie');
    },
  );

  it('does not link without input files', async () => {
    expect((await guestCompilerCommand(['-v'])).linkedFile).toBeUndefined();
    expect((await guestCompilerCommand(['-dumpversion'])).linkedFile).toBeUndefined();
  });

  it("drops the libraries musl's libc.a already has", async () => {
    const hostLibm = '/usr/lib/x86_64-linux-gnu/libm.so';
    const { args, droppedLibraries } = await guestCompilerCommand(['main.c', '-lm', '-l', 'pthread', '-lrt', '-ldl', '-lutil', '-lc', '-lz', hostLibm, 'build/libutil.a']);
    expect(droppedLibraries).toEqual(['-lm', '-lpthread', '-lrt', '-ldl', '-lutil', '-lc', hostLibm]);
    expect(args.filter((a) => /^-l/.test(a) || a === 'pthread')).toEqual(['-lz', '-lgcc']);
    expect(args).toContain('build/libutil.a');
  });

  it.each(['-shared', '-no-pie', '-fno-pie', '-fno-PIC'])('refuses %s with a reason', async (flag) => {
    await expect(guestCompilerCommand([flag, 'main.c'])).rejects.toThrow(GuestBuildError);
    await expect(guestCompilerCommand([flag, '-c', 'main.c'])).rejects.toThrow(new RegExp(`${flag} is not supported: .*(static PIE|position independent)`));
  });
});
