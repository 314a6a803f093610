import { openSync, closeSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CREATE_VP, MSHV_IOCTL, USER_MEM_REGION } from '../../src/mshv-abi.js';
import { addon, expectEveryMemberDisposed, mappingCount, openFdCount, systemError } from '../helpers/native.js';

// A partition over /dev/null: every MSHV ioctl answers ENOTTY.
let nullFd: number;
beforeEach(() => {
  nullFd = openSync('/dev/null', 'r+');
});
afterEach(() => closeSync(nullFd));

function region(size: number, flags = USER_MEM_REGION.writable | USER_MEM_REGION.executable): Uint8Array {
  const arg = new Uint8Array(USER_MEM_REGION.size);
  const view = new DataView(arg.buffer);
  view.setBigUint64(USER_MEM_REGION.sizeField, BigInt(size), true);
  view.setUint8(USER_MEM_REGION.flags, flags);
  return arg;
}

describe('MshvPartition', () => {
  it('ioctl and createVp fail with system errors naming the ioctl', () => {
    using partition = addon.testing.partitionOverFd(nullFd);
    expect(() => partition.ioctl(MSHV_IOCTL.MSHV_INITIALIZE_PARTITION)).toThrow(systemError('ENOTTY', 'MSHV_INITIALIZE_PARTITION'));
    const before = openFdCount();
    expect(() => partition.createVp(new Uint8Array(CREATE_VP.size), { workerThread: true })).toThrow(systemError('ENOTTY', 'MSHV_CREATE_VP'));
    expect(openFdCount()).toBe(before);
    expect(() => partition.createVp(new Uint8Array(2))).toThrow(expect.objectContaining({ name: 'RangeError' }));
    expect(() => partition.createVp(new Uint8Array(4), 1 as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
  });

  it('setGuestMemory writes the memory\'s host address into userspace_addr, and holds nothing when the kernel refuses', () => {
    using partition = addon.testing.partitionOverFd(nullFd);
    const mappings = mappingCount('memfd:hyperlight-guest-memory');
    const memory = new addon.GuestMemory(0x4000);
    const arg = region(0x4000);
    expect(() => partition.setGuestMemory(arg, memory)).toThrow(systemError('ENOTTY', 'MSHV_SET_GUEST_MEMORY'));
    const address = new DataView(arg.buffer).getBigUint64(USER_MEM_REGION.userspaceAddr, true);
    expect(address).not.toBe(0n);
    expect(address % 4096n).toBe(0n);
    expect(mappingCount('memfd:hyperlight-guest-memory')).toBe(mappings + 1);
    memory.dispose();
    expect(mappingCount('memfd:hyperlight-guest-memory')).toBe(mappings); // not held: the map failed
  });

  it('setGuestMemory refuses a region larger than the memory, an empty one, and anything but a GuestMemory', () => {
    using partition = addon.testing.partitionOverFd(nullFd);
    using memory = new addon.GuestMemory(0x4000);
    const range = expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' });
    expect(() => partition.setGuestMemory(region(0x5000), memory)).toThrow(range);
    expect(() => partition.setGuestMemory(region(0), memory)).toThrow(range);
    expect(() => partition.setGuestMemory(region(0x4000), {} as never)).toThrow(expect.objectContaining({ name: 'TypeError' }));
    expect(() => partition.setGuestMemory(new Uint8Array(16), memory)).toThrow(range);
    const gone = new addon.GuestMemory(0x1000);
    gone.dispose();
    expect(() => partition.setGuestMemory(region(0x1000), gone)).toThrow(expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED' }));
  });

  it('dispose() closes the fd (idempotent); every member then throws ERR_HYPERLIGHT_DISPOSED', () => {
    const before = openFdCount();
    const partition = addon.testing.partitionOverFd(nullFd);
    expect(openFdCount()).toBe(before + 1);
    partition.dispose();
    partition.dispose();
    expect(openFdCount()).toBe(before);
    expect(expectEveryMemberDisposed(partition, addon.MshvPartition.prototype, 'MshvPartition')).toEqual(['ioctl', 'createVp', 'setGuestMemory']);
  });
});
