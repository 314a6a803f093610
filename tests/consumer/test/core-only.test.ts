// An app that installs core without any backend: checkHypervisor() lists
// backend-kvm as not installed, and creating a sandbox throws core's typed
// BackendUnavailableError saying what to install (ESM and CommonJS).
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HypervisorAvailability } from '@hyperlight-ts/core';
import { createApp } from './support/app.js';
import { buildGuest } from './support/guest.js';
import { PACKAGE_MANAGERS } from './support/hello-app.js';
import { runProgram, writePrograms, type HelloOutput } from './support/programs.js';

/** The version the packed packages carry: the not-installed detail names it. */
const CORE_VERSION = (createRequire(import.meta.url)('@hyperlight-ts/core/package.json') as { version: string }).version;

for (const pm of PACKAGE_MANAGERS) {
  describe(`an app with core and no backend (${pm})`, () => {
    let dir = '';
    beforeAll(() => {
      dir = createApp(`core-only-${pm}`, pm, { dependencies: ['@hyperlight-ts/core'], devDependencies: ['@hyperlight-ts/guest-rs'] });
      writePrograms(dir);
      buildGuest(dir);
    });

    it.each(['esm', 'cjs'] as const)('checkHypervisor() lists backend-kvm as not installed (%s)', (kind) => {
      const { backend, candidates } = runProgram<HypervisorAvailability>(dir, 'check', kind);
      expect(backend).toBeUndefined();
      expect(candidates).toContainEqual({ backend: 'kvm', reason: 'not-installed', detail: `install @hyperlight-ts/backend-kvm@${CORE_VERSION}` });
    });

    it.each(['esm', 'cjs'] as const)('creating a sandbox throws BackendUnavailableError naming the package to install (%s)', (kind) => {
      const { error } = runProgram<HelloOutput>(dir, 'hello', kind);
      expect(error).toMatchObject({ name: 'BackendUnavailableError', code: 'HL_ERR_BACKEND_UNAVAILABLE', unavailable: true });
      expect(error?.message).toContain('install @hyperlight-ts/backend-kvm');
    });
  });
}
