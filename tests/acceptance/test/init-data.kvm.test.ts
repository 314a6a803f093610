import { expect, it } from 'vitest';
import { forEachGuest, simpleSandbox } from './support/guests.js';

forEachGuest('init data', (language) => {
  it('the guest reads the blob it was created with', () => {
    using sandbox = simpleSandbox(language, { initData: new TextEncoder().encode('configuration v1') });
    expect(new TextDecoder().decode(sandbox.call('ReadInitData', 'bytes'))).toBe('configuration v1');
  });

  it('is empty without one', () => {
    using sandbox = simpleSandbox(language);
    expect(sandbox.call('ReadInitData', 'bytes')).toEqual(new Uint8Array());
  });

  it('a blob spanning many pages arrives whole, and each sandbox keeps its own', () => {
    const big = new Uint8Array(40_000).map((_, i) => (i * 31 + 7) & 0xff);
    using a = simpleSandbox(language, { initData: big });
    using b = simpleSandbox(language, { initData: Uint8Array.of(1, 2, 3) });
    // Read back through a larger output buffer than the blob.
    expect(a.call('ReadInitData', 'bytes')).toEqual(big);
    expect(b.call('ReadInitData', 'bytes')).toEqual(Uint8Array.of(1, 2, 3));
  });
});
