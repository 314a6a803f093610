import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createBackend, MshvError } from '../../src/index.js';
import { surfaceOf } from '../../src/load-native.js';
import { MSHV_IOCTL, ROOT_HVCALL } from '../../src/mshv-abi.js';
import { addon, expectEveryMemberDisposed, openFdCount, systemError } from '../helpers/native.js';

/** SIOCGIFCONF: an ioctl whose argument (`struct ifconf`) points at a buffer the kernel fills. */
const SIOCGIFCONF = 0x8912;
/** sizeof(struct ifreq) on x86-64: a 16-byte name, then a 24-byte union. */
const IFREQ_BYTES = 40;

describe('openDevice', () => {
  it('fails with the open error and the path when the device is missing', () => {
    expect(() => addon.openDevice('/dev/mshv')).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: '/dev/mshv', errno: -2 }));
    expect(() => addon.openDevice(42 as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });

  it('opens any device; dispose() closes it (idempotent)', () => {
    const before = openFdCount();
    const device = addon.openDevice('/dev/null');
    expect(openFdCount()).toBe(before + 1);
    device.dispose();
    device.dispose();
    expect(openFdCount()).toBe(before);
  });
});

describe('MshvDevice', () => {
  it('createPartition on another driver fails with ENOTTY naming MSHV_CREATE_PARTITION', () => {
    using device = addon.openDevice('/dev/null');
    expect(() => device.createPartition(new Uint8Array(16))).toThrow(systemError('ENOTTY', 'MSHV_CREATE_PARTITION'));
    expect(() => device.createPartition(new Uint8Array(8))).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });

  it('makes check() report api-mismatch and createVm() throw an MshvError when the device refuses it', () => {
    const onNull = createBackend(() => ({ ...surfaceOf(addon), openDevice: () => addon.openDevice('/dev/null') }));
    expect(onNull.check()).toEqual({ usable: false, reason: 'api-mismatch', detail: expect.stringContaining('ENOTTY') });
    let thrown: unknown;
    try {
      onNull.createVm({ memorySize: 0x10000 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MshvError);
    expect(thrown).toMatchObject({ ioctl: 'MSHV_CREATE_PARTITION', errno: 25, code: 'ENOTTY', backend: 'mshv' });
  });

  it('ioctl patches page-aligned bounce buffers into arg and fails cleanly on a non-MSHV fd', () => {
    using device = addon.openDevice('/dev/null');
    const arg = new Uint8Array(ROOT_HVCALL.size);
    const input = new Uint8Array(24).fill(0xab);
    const output = new Uint8Array(8).fill(0xcd);
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, arg, [{ offset: ROOT_HVCALL.inPtr, data: input }, { offset: ROOT_HVCALL.outPtr, data: output }]))
      .toThrow(systemError('ENOTTY', 'MSHV_ROOT_HVCALL'));
    const view = new DataView(arg.buffer);
    const inPtr = view.getBigUint64(ROOT_HVCALL.inPtr, true);
    const outPtr = view.getBigUint64(ROOT_HVCALL.outPtr, true);
    expect(inPtr).not.toBe(0n);
    expect(inPtr % 4096n).toBe(0n);
    expect(outPtr % 4096n).toBe(0n);
    expect(input.every((byte) => byte === 0xab) && output.every((byte) => byte === 0xcd)).toBe(true); // copied back unchanged
    expect(() => device.ioctl(0x1234)).toThrow(systemError('ENOTTY', 'ioctl'));
  });

  it('ioctl refuses bad arguments before any syscall', () => {
    using device = addon.openDevice('/dev/null');
    const range = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    for (const request of [MSHV_IOCTL.MSHV_CREATE_PARTITION, MSHV_IOCTL.MSHV_CREATE_VP, MSHV_IOCTL.MSHV_SET_GUEST_MEMORY, MSHV_IOCTL.MSHV_RUN_VP]) {
      expect(() => device.ioctl(request, new Uint8Array(256))).toThrow(range);
    }
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL)).toThrow(range); // no arg for a 32-byte request
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint8Array(31))).toThrow(range);
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint8Array(32), [{ offset: 25, data: new Uint8Array(1) }])).toThrow(range);
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint8Array(32), [{ offset: 0, data: new Uint8Array(2 ** 20 + 1) }])).toThrow(range);
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint16Array(16) as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    expect(() => device.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint8Array(32), 'x' as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    expect(() => device.ioctl(-1)).toThrow(range);
  });

  it('every member throws ERR_HYPERLIGHT_DISPOSED after dispose()', () => {
    const device = addon.openDevice('/dev/null');
    device.dispose();
    expect(expectEveryMemberDisposed(device, addon.MshvDevice.prototype, 'MshvDevice')).toEqual(['ioctl', 'createPartition']);
  });
});

describe('the generic ioctl on a socket (pointer arguments the kernel writes through)', () => {
  it('copies what the kernel wrote into the bounce buffer back into the data', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      using partition = addon.testing.partitionOverFd(fd);
      const arg = new Uint8Array(16); // struct ifconf: int ifc_len; (pad); char *ifc_buf at 8
      new DataView(arg.buffer).setInt32(0, 400, true);
      const data = new Uint8Array(400);
      expect(partition.ioctl(SIOCGIFCONF, arg, [{ offset: 8, data }])).toBe(0);
      const written = new DataView(arg.buffer).getInt32(0, true);
      expect(written % IFREQ_BYTES).toBe(0);
      const names = Array.from({ length: written / IFREQ_BYTES }, (_, i) =>
        new TextDecoder().decode(data.subarray(i * IFREQ_BYTES, i * IFREQ_BYTES + 16)).replace(/\0.*$/s, ''));
      expect(names).toContain('lo');
    } finally {
      server.close();
    }
  });
});
