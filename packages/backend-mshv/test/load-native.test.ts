import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import type { HostSystem } from '@hyperlight-ts/native-linux';
import { defaultAddonPath, openAddon } from '../src/load-native.js';

describe('the real backend on this machine', () => {
  it('check() never throws and says the device is missing (the addon loads; no /dev/mshv here)', () => {
    expect(backend.check()).toEqual({ usable: false, reason: 'device-missing', detail: expect.stringContaining('/dev/mshv does not exist') });
  });

  it('refuses other platforms and a missing addon with a typed load error', () => {
    const host: HostSystem = { platform: 'linux', arch: 'x64', libcFamily: 'glibc', libcVersion: '2.36' };
    expect(() => openAddon({ ...host, platform: 'win32' })).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_NATIVE_LOAD', message: expect.stringContaining('Linux x86-64') }));
    expect(() => openAddon(host, '/nonexistent/prebuilds/linux-x64-gnu/hyperlight_mshv.node')).toThrow(
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_NATIVE_LOAD', message: expect.stringContaining('prebuilt addon for linux-x64-gnu (this system: glibc 2.36) is missing') }),
    );
  });

  it('loads the variant for the C library from prebuilds/', () => {
    expect(defaultAddonPath({ platform: 'linux', arch: 'x64', libcFamily: 'musl', libcVersion: null })).toMatch(/prebuilds\/linux-x64-musl\/hyperlight_mshv\.node$/);
    expect(defaultAddonPath({ platform: 'linux', arch: 'x64', libcFamily: 'glibc', libcVersion: null })).toMatch(/prebuilds\/linux-x64-gnu\/hyperlight_mshv\.node$/);
  });
});
