// What each prebuilt addon asks of the system that loads it (native-linux's
// tools/prebuild-symbols.mjs reads it with readelf): the glibc build needs only
// glibc symbols that glibc 2.28 has, libgcc_s and Node-API; the musl build
// only musl's libc (as Alpine names it), libstdc++/libgcc_s and Node-API,
// nothing glibc-only. With HYPERLIGHT_OLD_GLIBC_ROOT (a Debian root from
// debootstrap, e.g. bullseye's glibc 2.31), the glibc build is also loaded and
// run under that root's glibc (native-linux's tools/check-old-glibc.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PREBUILD_REQUIREMENTS } from '@hyperlight-ts/native-linux';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const tool = join(packageRoot, '..', 'native-linux', 'tools', 'prebuild-symbols.mjs');
const oldGlibcTool = join(packageRoot, '..', 'native-linux', 'tools', 'check-old-glibc.mjs');
const oldGlibcRoot = process.env.HYPERLIGHT_OLD_GLIBC_ROOT ?? '';
const prebuild = (libc: string): string => join(packageRoot, 'prebuilds', `linux-x64-${libc}`, 'hyperlight_mshv.node');

interface SymbolReport {
  needed: string[];
  undefinedSymbols: number;
  highest: Record<string, string>;
  glibcBaseline?: string;
  problems: string[];
}

/** Whether dotted version `a` is at most `b` (2.27 ≤ 2.28, 2.3.2 ≤ 2.28). */
function atMost(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return true;
}

function report(libc: 'gnu' | 'musl'): SymbolReport {
  return JSON.parse(execFileSync(process.execPath, [tool, prebuild(libc), libc], { encoding: 'utf8' })) as SymbolReport;
}

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
    expect(highest.GLIBC).toBeDefined();
    expect(atMost(highest.GLIBC ?? '', PREBUILD_REQUIREMENTS.glibc)).toBe(true);
    expect(highest.GLIBCXX).toBeUndefined();
  });
});

describe.skipIf(oldGlibcRoot === '')('the linux-x64-gnu prebuild on an older glibc (HYPERLIGHT_OLD_GLIBC_ROOT unset: skipped)', () => {
  it('loads, reports the missing device from check() and maps guest memory under that root\'s glibc', () => {
    const output = execFileSync(process.execPath, [oldGlibcTool, oldGlibcRoot, 'backend-mshv'], { encoding: 'utf8' });
    const result = JSON.parse(output) as { glibcRuntime: string; problems: string[]; results: { check: { reason?: string } }[] };
    expect(result.problems).toEqual([]);
    expect(atMost(result.glibcRuntime, '2.33')).toBe(true); // older than the build machine's and the 2.34 of libc's own pthread
    expect(result.results).toHaveLength(1);
  }, 60_000);
});

// The musl build needs Debian's musl-dev ("pnpm build:musl"); CI builds it (prepack needs it too).
describe.skipIf(!existsSync(prebuild('musl')) && !process.env.CI)('the linux-x64-musl prebuild', () => {
  it("asks for musl's libc by Alpine's name and only for symbols musl, libstdc++, libgcc_s or Node-API provide", () => {
    const { needed, highest, problems } = report('musl');
    expect(problems).toEqual([]);
    expect(needed).toContain('libc.musl-x86_64.so.1');
    expect(needed).not.toContain('libc.so.6');
    expect(highest.GLIBC).toBeUndefined();
    expect(highest.GLIBCXX).toBe(PREBUILD_REQUIREMENTS.muslGlibcxx);
  });
});
