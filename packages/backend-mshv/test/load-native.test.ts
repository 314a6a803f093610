import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import { openAddon } from '../src/load-native.js';

describe('the real backend on this machine', () => {
  it('check() never throws and says the device is missing (the addon loads; no /dev/mshv here)', () => {
    expect(backend.check()).toEqual({ usable: false, reason: 'device-missing', detail: expect.stringContaining('/dev/mshv does not exist') });
  });

  it('refuses other platforms and a missing addon with a typed load error', () => {
    expect(() => openAddon('/nonexistent.node', 'win32', 'x64')).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_NATIVE_LOAD', message: expect.stringContaining('Linux x86-64') }));
    expect(() => openAddon('/nonexistent.node', 'linux', 'x64')).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_NATIVE_LOAD', message: expect.stringContaining('not built') }));
  });
});
