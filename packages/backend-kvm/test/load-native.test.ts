import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KVM } from '../src/kvm-constants.js';
import { checkAbi, defaultAddonPath, loadNative, NATIVE_LOAD_ERROR_CODE, openAddon, packageRoot } from '../src/load-native.js';
import { RUN_BLOCK } from '../src/run-block.js';

const scratch = mkdtempSync(join(tmpdir(), 'backend-kvm-load-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('loadNative', () => {
  it('loads build/Release/hyperlight_kvm.node with all four classes', () => {
    const addon = loadNative();
    expect(typeof addon.Kvm).toBe('function');
    expect(typeof addon.VmFd).toBe('function');
    expect(typeof addon.VcpuFd).toBe('function');
    expect(typeof addon.GuestMemory).toBe('function');
    expect(loadNative()).toBe(addon);
  });

  it('finds the addon relative to the package root', () => {
    expect(defaultAddonPath()).toBe(join(packageRoot(), 'build', 'Release', 'hyperlight_kvm.node'));
    expect(existsSync(join(packageRoot(), 'package.json'))).toBe(true);
  });

  it('the addon was compiled with the same constants and run-block layout as the TS', () => {
    const { abi } = loadNative();
    expect(abi.kvm).toEqual({ ...KVM });
    expect(abi.runBlock).toEqual({ ...RUN_BLOCK });
  });
});

describe('openAddon explains why it cannot load', () => {
  const host = { platform: 'linux', arch: 'x64' };

  it('on another platform', () => {
    expect(() => openAddon({ addonPath: defaultAddonPath(), platform: 'darwin', arch: 'arm64' })).toThrow(
      expect.objectContaining({
        code: NATIVE_LOAD_ERROR_CODE,
        message: expect.stringContaining('only on Linux x86-64 (KVM); this is darwin/arm64'),
      }),
    );
  });

  it('when the addon was never built', () => {
    const addonPath = join(scratch, 'missing', 'hyperlight_kvm.node');
    expect(() => openAddon({ addonPath, ...host })).toThrow(
      expect.objectContaining({
        code: NATIVE_LOAD_ERROR_CODE,
        message: expect.stringMatching(new RegExp(`${addonPath} does not exist.*pnpm build`)),
      }),
    );
  });

  it("with the dynamic loader's own message", () => {
    const addonPath = join(scratch, 'garbage.node');
    writeFileSync(addonPath, 'this is not an ELF shared object, just long enough to be read as one......');
    let error: (Error & { code?: string }) | undefined;
    try {
      openAddon({ addonPath, ...host });
    } catch (e) {
      error = e as Error & { code?: string };
    }
    expect(error?.code).toBe(NATIVE_LOAD_ERROR_CODE);
    expect(error?.message).toMatch(/invalid ELF header|file too short/);
    expect(error?.message).toContain('pnpm build');
    expect(error?.cause).toBeInstanceOf(Error);
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
});

const builtEntries = ['dist/index.js', 'dist/index.cjs'].map((entry) => join(packageRoot(), entry));
const built = builtEntries.every((entry) => existsSync(entry));

describe.skipIf(!built)('the built package (dist/) finds the addon', () => {
  // Fresh processes, so the ESM and CJS builds resolve the addon from dist/ themselves.
  it.each([
    ['ESM', `import(${JSON.stringify(builtEntries[0])}).then((m) => console.log(m.backend.name, typeof m.loadNative().Kvm))`],
    ['CJS', `const m = require(${JSON.stringify(builtEntries[1])}); console.log(m.backend.name, typeof m.loadNative().Kvm)`],
  ])('%s', (_format, script) => {
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(output.trim()).toBe('kvm function');
  });
});
