/**
 * What each Linux backend's prebuilt addons ask of the system that loads them
 * (native-linux's tools/prebuild-symbols.mjs reads them with readelf): the
 * glibc build needs only glibc symbols that glibc 2.28 has, libgcc_s and
 * Node-API; the musl build only musl's libc (as Alpine names it),
 * libstdc++/libgcc_s and Node-API, nothing glibc-only. With
 * HYPERLIGHT_OLD_GLIBC_ROOT (a Debian root from debootstrap, e.g. bullseye's
 * glibc 2.31), the glibc build is also loaded and run under that root's glibc
 * (native-linux's tools/check-old-glibc.mjs).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PREBUILD_REQUIREMENTS } from '@hyperlight-ts/native-linux';

const nativeLinuxTools = join(dirname(createRequire(import.meta.url).resolve('@hyperlight-ts/native-linux/package.json')), 'tools');

interface SymbolReport {
  needed: string[];
  undefinedSymbols: number;
  highest: Record<string, string>;
  glibcBaseline?: string;
  problems: string[];
}

/** Whether dotted version `a` is at most `b` (2.27 ≤ 2.28, 2.3.2 ≤ 2.28). */
export function versionAtMost(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return true;
}

/**
 * The checks of one backend's two prebuilds.
 * @param packageRoot - the backend package's directory
 * @param addonFile - the addon's file name, e.g. `hyperlight_kvm.node`
 */
export function describePrebuilds(packageRoot: string, addonFile: string): void {
  const prebuild = (libc: 'gnu' | 'musl'): string => join(packageRoot, 'prebuilds', `linux-x64-${libc}`, addonFile);
  const report = (libc: 'gnu' | 'musl'): SymbolReport =>
    JSON.parse(execFileSync(process.execPath, [join(nativeLinuxTools, 'prebuild-symbols.mjs'), prebuild(libc), libc], { encoding: 'utf8' })) as SymbolReport;

  describe('the linux-x64-gnu prebuild', () => {
    it('needs only glibc symbols glibc 2.28 has (in libraries it lists), libgcc_s and Node-API (libstdc++ is linked in)', () => {
      const { needed, highest, glibcBaseline, problems, undefinedSymbols } = report('gnu');
      // Each GLIBC_ symbol@version is in glibc 2.28's ABI list, in a NEEDED library, and each needed version is defined there.
      expect(problems).toEqual([]);
      expect(glibcBaseline).toBe(PREBUILD_REQUIREMENTS.glibc);
      expect(undefinedSymbols).toBeGreaterThan(10);
      expect(needed).toContain('libc.so.6');
      expect(needed).toContain('libpthread.so.0'); // where glibc < 2.34 defines the pthread functions
      expect(needed).not.toContain('libstdc++.so.6');
      expect(highest['GLIBC']).toBeDefined();
      expect(versionAtMost(highest['GLIBC'] ?? '', PREBUILD_REQUIREMENTS.glibc)).toBe(true);
      expect(highest['GLIBCXX']).toBeUndefined();
    });
  });

  // `pnpm test` builds the musl variant first (the backends' test task depends on build:musl).
  describe('the linux-x64-musl prebuild', () => {
    it("asks for musl's libc by Alpine's name and only for symbols musl, libstdc++, libgcc_s or Node-API provide", () => {
      expect(existsSync(prebuild('musl')), 'the musl build is missing: pnpm build:musl').toBe(true);
      const { needed, highest, problems } = report('musl');
      expect(problems).toEqual([]);
      expect(needed).toContain('libc.musl-x86_64.so.1');
      expect(needed).not.toContain('libc.so.6');
      expect(highest['GLIBC']).toBeUndefined();
      expect(highest['GLIBCXX']).toBe(PREBUILD_REQUIREMENTS.muslGlibcxx);
    });
  });
}
