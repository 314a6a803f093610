import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { buildRustGuest, checkStaticPie, FRAME_POINTERS_FLAG, guestCrateDir, RustGuestBuildError, withFramePointers } from '../src/index.js';
import { fixture } from './helpers.js';

const scratch = await mkdtemp(join(tmpdir(), 'guest-rs-test-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** The error `promise` rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<RustGuestBuildError> {
  const e: unknown = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(RustGuestBuildError);
  return e as RustGuestBuildError;
}

describe('buildRustGuest', () => {
  it('builds a guest crate into a static PIE whose entry is hyperlight_entry', async () => {
    const outFile = join(scratch, 'nested', 'dir', 'tiny.elf');
    const lines: string[] = [];
    const elf = await buildRustGuest({ crateDir: fixture('tiny-guest'), outFile, onOutput: (l) => lines.push(l) });
    expect(elf).toBe(outFile);
    const info = checkStaticPie(await readFile(elf));
    expect(info.entryVerified).toBe(true);
    expect(info.relocationCount).toBeGreaterThan(0);
    expect(lines.join('\n')).toMatch(/Finished `release` profile/);
  });

  it('returns cargo\'s own output path without outFile, and builds debug on request', async () => {
    const elf = await buildRustGuest({ crateDir: fixture('tiny-guest'), release: false });
    expect(elf).toMatch(/[/\\]debug[/\\]tiny-guest$/);
    expect(checkStaticPie(await readFile(elf)).entryVerified).toBe(true);
  });

  it('reports compile errors with cargo\'s output', async () => {
    const e = await failure(buildRustGuest({ crateDir: fixture('broken-guest') }));
    expect(e.reason).toBe('cargo-failed');
    expect(e.summary).toMatch(/cargo could not build guest "broken-guest"/);
    expect(e.output).toMatch(/error\[E0308\]: mismatched types/);
    expect(e.message).toContain(e.output);
  });

  it('fails to build a guest with two #[guest_init] functions, at the second', async () => {
    const e = await failure(buildRustGuest({ crateDir: fixture('two-init-hooks') }));
    expect(e.reason).toBe('cargo-failed');
    expect(e.output).toMatch(/symbol `only_one_guest_init_per_guest` is already defined\n\s*--> src[/\\]main\.rs:11:1/);
  });

  it('rejects a binary that is not a guest', async () => {
    const e = await failure(buildRustGuest({ crateDir: fixture('not-a-guest') }));
    expect(e.reason).toBe('not-static-pie');
    expect(e.message).toMatch(/no hyperlight_entry symbol|entry point/);
  });

  it('says when the directory is not a guest crate', async () => {
    expect((await failure(buildRustGuest({ crateDir: scratch }))).reason).toBe('bad-crate');
    const noBin = await failure(buildRustGuest({ crateDir: fixture('no-bin') }));
    expect(noBin.reason).toBe('bad-crate');
    expect(noBin.message).toMatch(/exactly one binary target.*it has none/);
    const wrongBin = await failure(buildRustGuest({ crateDir: fixture('tiny-guest'), bin: 'other' }));
    expect(wrongBin.message).toMatch(/no binary target "other"; it has "tiny-guest"/);
  });

  it('says when cargo is missing', async () => {
    const e = await failure(buildRustGuest({ crateDir: fixture('tiny-guest'), cargo: join(scratch, 'no-such-cargo') }));
    expect(e.reason).toBe('cargo-not-found');
    expect(e.message).toMatch(/cargo is not installed or not on PATH/);
  });

  it('keeps frame pointers on request or when the package metadata asks for them', async () => {
    /** Function prologues that set up a frame pointer: push rbp; mov rbp, rsp. */
    const prologues = async (elf: string): Promise<number> => {
      const bytes = await readFile(elf);
      let count = 0;
      for (let at = bytes.indexOf('554889e5', 0, 'hex'); at >= 0; at = bytes.indexOf('554889e5', at + 1, 'hex')) count++;
      return count;
    };
    const plain = await prologues(await buildRustGuest({ crateDir: fixture('tiny-guest'), outFile: join(scratch, 'plain.elf') }));
    const kept = await prologues(
      await buildRustGuest({ crateDir: fixture('tiny-guest'), outFile: join(scratch, 'fp.elf'), framePointers: true }),
    );
    const byMetadata = await prologues(await buildRustGuest({ crateDir: fixture('frame-pointers-guest'), outFile: join(scratch, 'meta.elf') }));
    const overridden = await prologues(
      await buildRustGuest({ crateDir: fixture('frame-pointers-guest'), outFile: join(scratch, 'meta-off.elf'), framePointers: false }),
    );
    expect(kept).toBeGreaterThan(2 * plain + 20);
    expect(byMetadata).toBeGreaterThan(2 * overridden + 20);
  });

  it('adds the frame-pointer flag to the rustflags already in the environment', () => {
    const encoded = (env: NodeJS.ProcessEnv): string | undefined => withFramePointers(env)['CARGO_ENCODED_RUSTFLAGS'];
    expect(encoded({})).toBe(FRAME_POINTERS_FLAG);
    expect(encoded({ RUSTFLAGS: ' -C  opt-level=2 ' })).toBe(['-C', 'opt-level=2', FRAME_POINTERS_FLAG].join('\x1f'));
    expect(encoded({ RUSTFLAGS: '-Cx', CARGO_ENCODED_RUSTFLAGS: '-C\x1fa b' })).toBe(['-C', 'a b', FRAME_POINTERS_FLAG].join('\x1f'));
    expect(encoded({ RUSTFLAGS: FRAME_POINTERS_FLAG })).toBe(FRAME_POINTERS_FLAG);
  });

  it('points guest authors at the bundled runtime crate', async () => {
    const manifest = await readFile(join(guestCrateDir(), 'Cargo.toml'), 'utf8');
    expect(manifest).toMatch(/name = "hyperlight-guest"/);
  });
});
