import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostSystem } from '@hyperlight-ts/native-linux';
import { checkKvm } from '../src/backend.js';
import { KVM } from '../src/kvm-constants.js';
import { checkAbi, defaultAddonPath, loadNative, NATIVE_LOAD_ERROR_CODE, openAddon, packageRoot } from '../src/load-native.js';
import { RUN_BLOCK } from '../src/run-block.js';

const scratch = mkdtempSync(join(tmpdir(), 'backend-kvm-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const glibcHost: HostSystem = { platform: 'linux', arch: 'x64', libcFamily: 'glibc', libcVersion: '2.36' };
const muslHost: HostSystem = { ...glibcHost, libcFamily: 'musl', libcVersion: '1.2.5' };

describe('loadNative', () => {
  it('loads prebuilds/linux-x64-gnu/hyperlight_kvm.node with all four classes', () => {
    const addon = loadNative();
    expect(typeof addon.Kvm).toBe('function');
    expect(typeof addon.VmFd).toBe('function');
    expect(typeof addon.VcpuFd).toBe('function');
    expect(typeof addon.GuestMemory).toBe('function');
    expect(loadNative()).toBe(addon);
  });

  it('finds the variant for the C library under the package root', () => {
    expect(defaultAddonPath(glibcHost)).toBe(join(packageRoot(), 'prebuilds', 'linux-x64-gnu', 'hyperlight_kvm.node'));
    expect(defaultAddonPath(muslHost)).toBe(join(packageRoot(), 'prebuilds', 'linux-x64-musl', 'hyperlight_kvm.node'));
    expect(existsSync(join(packageRoot(), 'package.json'))).toBe(true);
  });

  it('the addon was compiled with the same constants and run-block layout as the TS', () => {
    const { abi } = loadNative();
    expect(abi.kvm).toEqual({ ...KVM });
    expect(abi.runBlock).toEqual({ ...RUN_BLOCK });
  });
});

/** The error openAddon throws for `host` and `addonPath`. */
function loadFailure(host: HostSystem, addonPath?: string): Error & { code?: string } {
  try {
    openAddon(host, addonPath);
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('openAddon loaded the addon');
}

/** A copy of the gnu prebuild in the scratch directory, changed by `damage`. */
function damagedCopy(name: string, damage: (bytes: Buffer) => Buffer): string {
  const addonPath = join(scratch, name, 'hyperlight_kvm.node');
  mkdirSync(join(scratch, name), { recursive: true });
  writeFileSync(addonPath, damage(readFileSync(defaultAddonPath(glibcHost))));
  return addonPath;
}

describe('openAddon names the real cause when the addon cannot load', () => {
  it('on another platform', () => {
    expect(loadFailure({ ...glibcHost, platform: 'darwin', arch: 'arm64' })).toMatchObject({
      code: NATIVE_LOAD_ERROR_CODE,
      message: expect.stringContaining('runs only on Linux x86-64; this is darwin/arm64'),
    });
  });

  it('when the file was moved away: which variant, which exist, how to build it', () => {
    const root = join(scratch, 'moved');
    cpSync(join(packageRoot(), 'prebuilds'), join(root, 'prebuilds'), { recursive: true });
    const addonPath = join(root, 'prebuilds', 'linux-x64-gnu', 'hyperlight_kvm.node');
    renameSync(addonPath, join(root, 'elsewhere.node'));
    const error = loadFailure(glibcHost, addonPath);
    expect(error.code).toBe(NATIVE_LOAD_ERROR_CODE);
    expect(error.message).toContain(`prebuilt addon for linux-x64-gnu (this system: glibc 2.36) is missing: ${addonPath} does not exist`);
    expect(error.message).toMatch(/Present: (linux-x64-musl|none)\./);
    // The scratch copy has no src/native, so it reads as an installed package.
    expect(error.message).toContain('reinstall @hyperlight-ts/backend-kvm');
    expect(loadFailure(muslHost, join(packageRoot(), 'prebuilds', 'none', 'hyperlight_kvm.node')).message).toContain('"pnpm build:musl"');
  });

  it('when it was built for another architecture (e_machine patched to aarch64)', () => {
    const addonPath = damagedCopy('aarch64', (bytes) => {
      bytes.writeUInt16LE(183, 18);
      return bytes;
    });
    const error = loadFailure(glibcHost, addonPath);
    expect(error.code).toBe(NATIVE_LOAD_ERROR_CODE);
    expect(error.message).toContain('it was built for aarch64 (ELF e_machine 183), not x86-64');
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain((error.cause as Error).message);
  });

  it('when the file is truncated', () => {
    const addonPath = damagedCopy('truncated', (bytes) => bytes.subarray(0, 50_000));
    expect(loadFailure(glibcHost, addonPath).message).toMatch(/it is truncated \(50000 bytes of at least \d+\)/);
  });

  it('when it is not an ELF file at all', () => {
    const addonPath = damagedCopy('not-elf', () => Buffer.from('<html>404 Not Found</html>'));
    expect(loadFailure(glibcHost, addonPath).message).toContain('it is not an ELF shared object (26 bytes)');
  });

  // `pnpm test` builds the musl variant first (turbo: test depends on build:musl).
  it('when the musl build is loaded on this glibc system (wrong libc)', () => {
    expect(existsSync(defaultAddonPath(muslHost)), 'the musl build is missing: pnpm build:musl').toBe(true);
    // detect-libc is told musl, so the loader picks the musl build; the dynamic loader here is glibc's.
    const error = loadFailure({ ...muslHost, libcFamily: 'glibc', libcVersion: '2.36' }, defaultAddonPath(muslHost));
    expect(error.message).toContain("this is the musl build (linux-x64-musl) but this system's C library is glibc 2.36, not musl");
    expect(error.message).toContain('libc.musl-x86_64.so.1');
  });

  it('when the addon was built from other sources (constants differ)', () => {
    const real = loadNative();
    const stale = { ...real, abi: { ...real.abi, kvm: { ...real.abi.kvm, KVM_EXIT_IO: 99 } } };
    expect(() => checkAbi(stale, '/x/hyperlight_kvm.node')).toThrow(
      expect.objectContaining({
        code: NATIVE_LOAD_ERROR_CODE,
        message: expect.stringContaining('KVM_EXIT_IO: addon 99, TypeScript 2'),
      }),
    );
    const staleCallState = { ...real, abi: { ...real.abi, callState: { ...real.abi.callState, seqShift: 8 } } };
    expect(() => checkAbi(staleCallState, '/x/hyperlight_kvm.node')).toThrow(/call state seqShift: addon 8, TypeScript 4/);
    expect(() => checkAbi({ ...real, abi: undefined } as never, '/x/hyperlight_kvm.node')).toThrow(/other sources/);
    expect(() => checkAbi(real, '/x/hyperlight_kvm.node')).not.toThrow();
  });

  it('check() reports a load failure as load-failed with the message', () => {
    const status = checkKvm({ load: () => openAddon(glibcHost, join(scratch, 'nowhere.node')) });
    expect(status).toEqual({ usable: false, reason: 'load-failed', detail: expect.stringContaining('linux-x64-gnu') });
  });
});

const builtEntries = ['dist/index.js', 'dist/index.cjs'].map((entry) => join(packageRoot(), entry));

// `pnpm test` builds the package first (turbo: test depends on build).
describe('the built package (dist/) finds the addon', () => {
  it('is built', () => {
    expect(builtEntries.filter((entry) => !existsSync(entry)), 'run pnpm build first').toEqual([]);
  });

  // Fresh processes, so the ESM and CJS builds resolve the addon from dist/ themselves.
  it.each([
    ['ESM', `import(${JSON.stringify(builtEntries[0])}).then((m) => console.log(m.backend.name, typeof m.loadNative().Kvm))`],
    ['CJS', `const m = require(${JSON.stringify(builtEntries[1])}); console.log(m.backend.name, typeof m.loadNative().Kvm)`],
  ])('%s', (_format, script) => {
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(output.trim()).toBe('kvm function');
  });
});
