// buildRustGuest with the C library: a guest whose runtime has the `libc`
// feature gets musl (and libgcc) linked, plus the C objects it names. The
// guests are generated in a scratch Cargo workspace.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { buildRustGuest, cLinkArgs, guestCrateDir, RustGuestBuildError } from '../src/index.js';
import './helpers.js';

/** A libc archive path that replaces the real one while set (to test a missing library). */
const libcOverride = vi.hoisted(() => ({ path: undefined as string | undefined }));
vi.mock('../src/native-libraries.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/native-libraries.js')>();
  return { ...real, guestNativeLibraries: () => ({ ...real.guestNativeLibraries(), ...(libcOverride.path ? { libcArchive: libcOverride.path } : {}) }) };
});

const scratch = await mkdtemp(join(tmpdir(), 'guest-rs-libc-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Writes guest crate `name` of the scratch workspace. */
async function guestCrate(name: string, options: { libc: boolean; metadataLink?: string[] }, main: string): Promise<string> {
  const dir = join(scratch, name);
  await mkdir(join(dir, 'src'), { recursive: true });
  const features = options.libc ? ', features = ["libc"]' : '';
  const metadata = options.metadataLink ? `\n[package.metadata.hyperlight]\nlink = ${JSON.stringify(options.metadataLink)}\n` : '';
  await writeFile(
    join(dir, 'Cargo.toml'),
    `[package]\nname = "${name}"\nversion = "0.0.0"\nedition = "2024"\n\n[[bin]]\nname = "${name}"\npath = "src/main.rs"\ntest = false\n\n` +
      `[dependencies]\nhyperlight-guest = { path = ${JSON.stringify(guestCrateDir())}${features} }\n${metadata}`,
  );
  await writeFile(join(dir, 'src', 'main.rs'), `#![no_std]\n#![no_main]\nuse hyperlight_guest::prelude::*;\n${main}\n`);
  return dir;
}

/** A guest function that calls the C function `answer` from c/answer.c. */
const CALLS_ANSWER = `unsafe extern "C" { fn answer() -> i32; }\n#[guest_function("Answer")]\nfn call_answer() -> i32 { unsafe { answer() } }`;

/** The global symbols `elf` defines. */
function definedSymbols(elf: string): Set<string> {
  const nm = spawnSync('nm', ['--defined-only', '--extern-only', elf], { encoding: 'utf8' });
  expect(nm.status, nm.stderr).toBe(0);
  return new Set(nm.stdout.split('\n').map((line) => line.split(' ')[2] ?? ''));
}

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<RustGuestBuildError> {
  const e: unknown = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(RustGuestBuildError);
  return e as RustGuestBuildError;
}

let withLibc: string;
let withoutLibc: string;
let withOption: string;
let answerObject: string;

beforeAll(async () => {
  await writeFile(join(scratch, 'Cargo.toml'), '[workspace]\nresolver = "3"\nmembers = ["with-libc", "without-libc", "with-option"]\n');
  withLibc = await guestCrate(
    'with-libc',
    { libc: true, metadataLink: ['c/answer.o'] },
    `${CALLS_ANSWER}\nunsafe extern "C" { fn snprintf(b: *mut u8, n: usize, f: *const u8, ...) -> i32; }\n` +
      `#[guest_function("Format")]\nfn format(x: f64) -> i32 { let mut b = [0u8; 64]; unsafe { snprintf(b.as_mut_ptr(), 64, c"%a".as_ptr().cast(), x) } }`,
  );
  withoutLibc = await guestCrate('without-libc', { libc: false }, '#[guest_function("One")]\nfn one() -> i32 { 1 }');
  withOption = await guestCrate('with-option', { libc: false }, CALLS_ANSWER);
  await mkdir(join(withLibc, 'c'));
  await writeFile(join(withLibc, 'c', 'answer.c'), 'int answer(void) { return 42; }\n');
  answerObject = join(withLibc, 'c', 'answer.o');
  const cc = spawnSync('gcc', ['-O2', '-fPIE', '-fno-stack-protector', '-c', join(withLibc, 'c', 'answer.c'), '-o', answerObject], { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
});

describe('buildRustGuest with the C library', () => {
  for (const release of [true, false]) {
    it(`links musl and the package's C objects into a guest with the libc feature (${release ? 'release' : 'debug'})`, async () => {
      const elf = await buildRustGuest({ crateDir: withLibc, release, outFile: join(scratch, `with-libc-${release}.elf`) });
      const symbols = definedSymbols(elf);
      // The runtime's exports, the glue's init, musl's printf and the guest's own C.
      for (const name of ['__hl_syscall', '__hl_abort', 'malloc', 'free', '__libc_malloc', '__hl_libc_init', 'snprintf', 'answer']) {
        expect(symbols.has(name), name).toBe(true);
      }
    });
  }

  it('leaves the C library out of a guest without the feature, even next to one with it', async () => {
    const symbols = definedSymbols(await buildRustGuest({ crateDir: withoutLibc, outFile: join(scratch, 'without.elf') }));
    expect(symbols.has('__hl_libc_init')).toBe(false);
    expect(symbols.has('__hl_syscall')).toBe(false);
    expect(symbols.has('malloc')).toBe(false);
  });

  it('links C objects given with the link option', async () => {
    const linked = await buildRustGuest({ crateDir: withOption, link: [answerObject], outFile: join(scratch, 'option.elf') });
    expect(definedSymbols(linked).has('answer')).toBe(true);
    const e = await failure(buildRustGuest({ crateDir: withOption }));
    expect(e.reason).toBe('cargo-failed');
    expect(e.output).toMatch(/undefined (reference to |symbol: )`?answer/);
  });

  it('says which link input is missing', async () => {
    const e = await failure(buildRustGuest({ crateDir: withOption, link: [join(scratch, 'nowhere.o')] }));
    expect(e.reason).toBe('missing-link-input');
    expect(e.message).toContain(join(scratch, 'nowhere.o'));
  });

  it('says when the C library is not built', async () => {
    libcOverride.path = join(scratch, 'no-libc', 'libc.a');
    try {
      const e = await failure(buildRustGuest({ crateDir: withLibc }));
      expect(e.reason).toBe('libc-not-built');
      expect(e.message).toMatch(/enables hyperlight-guest's "libc" feature, but the C library .*no-libc\/libc\.a is not built/);
      // A guest without the feature does not need it.
      await buildRustGuest({ crateDir: withoutLibc });
    } finally {
      libcOverride.path = undefined;
    }
  });

  it('puts the C inputs, the C library and libgcc in one link group', () => {
    expect(cLinkArgs(['a.o', 'b.a'], '/x/libc.a')).toEqual(['-Wl,--start-group', 'a.o', 'b.a', '/x/libc.a', '-lgcc', '-Wl,--end-group']);
    expect(cLinkArgs(['a.o'], undefined)).toEqual(['a.o']);
  });
});
