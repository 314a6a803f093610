/** Assertions on what installed packages report. */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { HypervisorAvailability } from '@hyperlight-ts/core';
import { kvmUsableHere } from './hypervisor.js';

/**
 * `availability` as this host must report it for an app with backend-kvm
 * installed: KVM when it is usable here; else the KVM candidate unusable
 * because of the device (missing without `/dev/kvm`), and no backend failed to load.
 */
export function expectKvmReported(availability: HypervisorAvailability): void {
  if (kvmUsableHere) {
    expect(availability.backend).toBe('kvm');
    return;
  }
  expect(availability.backend).toBeUndefined();
  expect(availability.candidates.filter((c) => c.reason === 'load-failed')).toEqual([]);
  const kvm = availability.candidates.find((c) => c.backend === 'kvm');
  if (!existsSync('/dev/kvm')) expect(kvm?.reason).toBe('device-missing');
  else expect(['device-missing', 'permission-denied']).toContain(kvm?.reason);
}

/** Every installed @hyperlight-ts package of the app in `dir` (top level and nested under pnpm's store). */
function installedManifests(dir: string): { path: string; manifest: { name: string; scripts?: Record<string, string> } }[] {
  const found = new Map<string, { path: string; manifest: { name: string; scripts?: Record<string, string> } }>();
  const visit = (nodeModules: string): void => {
    const scope = join(nodeModules, '@hyperlight-ts');
    if (!existsSync(scope)) return;
    for (const name of readdirSync(scope)) {
      const path = join(scope, name, 'package.json');
      if (existsSync(path)) found.set(realpathSync(path), { path, manifest: JSON.parse(readFileSync(path, 'utf8')) as { name: string } });
    }
  };
  visit(join(dir, 'node_modules'));
  const store = join(dir, 'node_modules', '.pnpm');
  if (existsSync(store)) for (const entry of readdirSync(store)) visit(join(store, entry, 'node_modules'));
  return [...found.values()];
}

/** Lifecycle scripts a package manager runs when it installs a package. */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/**
 * The @hyperlight-ts packages installed in the app in `dir` are `expected`
 * (at least), and none has an install script.
 */
export function expectInstalledWithoutScripts(dir: string, expected: readonly string[]): void {
  const installed = installedManifests(dir);
  for (const name of expected) expect(installed.map((i) => i.manifest.name)).toContain(name);
  const withScripts = installed.flatMap(({ manifest }) =>
    INSTALL_SCRIPTS.filter((s) => manifest.scripts?.[s] !== undefined).map((s) => `${manifest.name}: ${s}: ${manifest.scripts?.[s]}`),
  );
  expect(withScripts).toEqual([]);
}
