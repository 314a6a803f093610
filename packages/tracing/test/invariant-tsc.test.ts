import { afterEach, describe, expect, it, vi } from 'vitest';

import { invariantTscFromCpuinfo, TSC_NOT_INVARIANT_WARNING } from '../src/invariant-tsc.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.resetModules();
  vi.doUnmock('node:fs');
});

describe('invariant TSC', () => {
  it('reads constant_tsc and nonstop_tsc from the flags line', () => {
    expect(invariantTscFromCpuinfo('processor\t: 0\nflags\t\t: fpu tsc constant_tsc nonstop_tsc sse\n')).toBe(true);
    expect(invariantTscFromCpuinfo('flags\t\t: fpu tsc constant_tsc\n')).toBe(false);
    expect(invariantTscFromCpuinfo('processor\t: 0\n')).toBeNull();
  });

  it('warns once per process when the TSC is not invariant', async () => {
    vi.doMock('node:fs', () => ({ readFileSync: () => 'flags\t: fpu tsc\n' }));
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const { hostInvariantTsc } = await import('../src/invariant-tsc.js');
    const expected = process.platform === 'linux' ? false : null;
    expect(hostInvariantTsc()).toBe(expected);
    expect(hostInvariantTsc()).toBe(expected);
    expect(warn).toHaveBeenCalledTimes(expected === false ? 1 : 0);
    if (expected === false) expect(warn.mock.calls[0]![1]).toEqual({ code: TSC_NOT_INVARIANT_WARNING });
  });
});
