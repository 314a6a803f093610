import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

import { checkStaticPie, RustGuestBuildError } from '../src/index.js';

// The ELF rules themselves are the host loader's (core's parseElf, tested
// there); these tests cover how a build reports them.

function reason(bytes: Uint8Array): string {
  try {
    checkStaticPie(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(RustGuestBuildError);
    expect((e as RustGuestBuildError).reason).toBe('not-static-pie');
    return (e as Error).message;
  }
  return 'accepted';
}

describe('checkStaticPie', () => {
  it('reports what the host loader rejects, as a build error', () => {
    expect(reason(new Uint8Array(10))).toMatch(/^not a static-PIE x86-64 guest: .*ELF/);
  });

  it('rejects an ordinary dynamically linked program', async () => {
    expect(reason(await readFile(process.execPath))).toMatch(/position-independent|dynamic|PT_INTERP/i);
  });
});
