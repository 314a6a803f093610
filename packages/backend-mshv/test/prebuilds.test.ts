// What each prebuilt addon asks of the system that loads it (native-linux's
// tools/prebuild-symbols.mjs reads it with readelf): the glibc build needs only
// glibc up to the documented version, libgcc_s and Node-API; the musl build
// only musl's libc (as Alpine names it), libstdc++/libgcc_s and Node-API,
// nothing glibc-only.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PREBUILD_REQUIREMENTS } from '@hyperlight-ts/native-linux';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
const tool = join(packageRoot, '..', 'native-linux', 'tools', 'prebuild-symbols.mjs');
const prebuild = (libc: string): string => join(packageRoot, 'prebuilds', `linux-x64-${libc}`, 'hyperlight_mshv.node');

interface SymbolReport {
  needed: string[];
  undefinedSymbols: number;
  highest: Record<string, string>;
  problems: string[];
}

function report(libc: 'gnu' | 'musl'): SymbolReport {
  return JSON.parse(execFileSync(process.execPath, [tool, prebuild(libc), libc], { encoding: 'utf8' })) as SymbolReport;
}

describe('the linux-x64-gnu prebuild', () => {
  it('needs glibc up to the documented version, libgcc_s and Node-API only (libstdc++ is linked in)', () => {
    const { needed, highest, problems, undefinedSymbols } = report('gnu');
    expect(problems).toEqual([]);
    expect(undefinedSymbols).toBeGreaterThan(10);
    expect(needed).toContain('libc.so.6');
    expect(needed).not.toContain('libstdc++.so.6');
    expect(highest.GLIBC).toBe(PREBUILD_REQUIREMENTS.glibc);
    expect(highest.GLIBCXX).toBeUndefined();
  });
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
