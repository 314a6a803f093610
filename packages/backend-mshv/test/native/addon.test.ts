import { CALL_STATE } from '@hyperlight-ts/core/backend';
import { describe, expect, it } from 'vitest';
import { backend, loadNative } from '../../src/index.js';
import { expectedAbi } from '../../src/load-native.js';
import { MSHV_IOCTL } from '../../src/mshv-abi.js';
import { addon } from '../helpers/native.js';

describe('the MSHV addon', () => {
  it('loads, with the ABI numbers of mshv-abi.ts and the call-state layout of core', () => {
    expect(addon.abi.mshv).toEqual(expectedAbi());
    expect(addon.abi.callState).toEqual(CALL_STATE);
    expect(Object.keys(MSHV_IOCTL).every((name) => addon.abi.mshv[name] === MSHV_IOCTL[name as keyof typeof MSHV_IOCTL])).toBe(true);
    expect(() => loadNative()).not.toThrow();
  });

  it('makes the real backend report device-missing here (no /dev/mshv), never load-failed', () => {
    expect(backend.check()).toEqual({
      usable: false,
      reason: 'device-missing',
      detail: expect.stringContaining('/dev/mshv does not exist'),
    });
  });

  it('refuses construction of its classes from JavaScript', () => {
    for (const [name, Class] of [['MshvDevice', addon.MshvDevice], ['MshvPartition', addon.MshvPartition], ['MshvVp', addon.MshvVp]] as const) {
      expect(() => new (Class as unknown as new () => unknown)(), name).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
  });

  it('cancelCall of an id no VP has returns false', () => {
    expect(addon.cancelCall(2 ** 40, 1)).toBe(false);
    expect(backend.cancelCall({ backend: 'mshv', id: 2 ** 40 }, 'killed')).toBe(false);
  });
});
