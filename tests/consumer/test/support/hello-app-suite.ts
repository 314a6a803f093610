/**
 * The host part of the main consumer app for one package manager: install
 * from the tarballs, build the guest with the installed helper, and what the
 * installed packages report without running a VM. Marks the app ready for
 * hello.kvm.test.ts once its guest is built.
 */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HypervisorAvailability } from '@hyperlight-ts/core';
import { createApp, type PackageManager } from './app.js';
import { expectInstalledWithoutScripts, expectKvmReported } from './checks.js';
import { buildGuest } from './guest.js';
import { HELLO_APP_DEPENDENCIES, helloAppName } from './hello-app.js';
import { runOk } from './process.js';
import { runProgram, writePrograms } from './programs.js';
import { clearReady, markReady } from './ready.js';

/** Declares the host tests of the main app installed with `pm`. */
export function describeHelloApp(pm: PackageManager): void {
  describe(`an app installed with ${pm} from the tarballs`, () => {
    const app = helloAppName(pm);
    let dir = '';
    beforeAll(() => {
      clearReady(app);
      dir = createApp(app, pm, HELLO_APP_DEPENDENCIES);
      writePrograms(dir);
    });

    it('gets every @hyperlight-ts package, native-linux too, and no install script', () => {
      expectInstalledWithoutScripts(dir, [...HELLO_APP_DEPENDENCIES.dependencies, ...HELLO_APP_DEPENDENCIES.devDependencies, '@hyperlight-ts/native-linux']);
    });

    it('builds a guest with the installed build helper', () => {
      const elf = buildGuest(dir);
      expect(readFileSync(elf).subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
      markReady(app, { dir });
    });

    it.each(['esm', 'cjs'] as const)('checkHypervisor() reports the KVM backend (%s)', (kind) => {
      expectKvmReported(runProgram<HypervisorAvailability>(dir, 'check', kind));
    });

    it("finds the backend from core's own location (another directory, no main module)", () => {
      const core = join(dir, 'node_modules', '@hyperlight-ts', 'core', 'dist', 'index.js');
      expect(existsSync(core)).toBe(true);
      const source = `import(${JSON.stringify(pathToFileURL(core).href)}).then((m) => console.log(JSON.stringify(m.checkHypervisor())))`;
      const stdout = runOk(process.execPath, ['--input-type=module', '-e', source], tmpdir());
      expectKvmReported(JSON.parse(stdout) as HypervisorAvailability);
    });
  });
}
