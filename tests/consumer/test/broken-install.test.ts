// A broken install is reported, not thrown: backend-kvm installed with its
// prebuilt addon removed from node_modules makes checkHypervisor() list KVM as
// load-failed with the loader's explanation naming the missing binary.
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HypervisorAvailability } from '@hyperlight-ts/core';
import { createApp } from './support/app.js';
import { runProgram, writePrograms } from './support/programs.js';

/** The addon's file name (packages/backend-kvm/prebuilds/linux-x64-{gnu,musl}/). */
const ADDON = 'hyperlight_kvm.node';

/** Every file named `name` under `dir`. */
const filesNamed = (dir: string, name: string): string[] =>
  (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).filter((p) => p.split('/').pop() === name).map((p) => join(dir, p));

describe('backend-kvm installed without its prebuilt binary (npm)', () => {
  let dir = '';
  let removed: string[] = [];
  beforeAll(() => {
    dir = createApp('broken-kvm-npm', 'npm', { dependencies: ['@hyperlight-ts/core', '@hyperlight-ts/backend-kvm'] });
    writePrograms(dir);
    const backendDir = join(dir, 'node_modules', '@hyperlight-ts', 'backend-kvm');
    removed = filesNamed(backendDir, ADDON).map((p) => relative(backendDir, p));
    for (const p of removed) rmSync(join(backendDir, p));
  });

  it('the package shipped the prebuilt binaries for linux-x64 gnu and musl', () => {
    expect(removed.sort()).toEqual([`prebuilds/linux-x64-gnu/${ADDON}`, `prebuilds/linux-x64-musl/${ADDON}`]);
  });

  it.each(['esm', 'cjs'] as const)("checkHypervisor() says load-failed with the loader's explanation (%s)", (kind) => {
    const { backend, candidates } = runProgram<HypervisorAvailability>(dir, 'check', kind);
    expect(backend).toBeUndefined();
    const kvm = candidates.find((c) => c.backend === 'kvm');
    expect(kvm?.reason).toBe('load-failed');
    expect(kvm?.detail).toContain(ADDON);
  });
});
