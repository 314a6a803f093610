import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallStateGuard } from '@hyperlight-ts/core/backend';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HVMSG, MSHV_IOCTL, VP_STATE } from '../../src/mshv-abi.js';
import type { MshvVp } from '../../src/mshv-ioctls.js';
import { addon, expectEveryMemberDisposed, openFdCount, systemError } from '../helpers/native.js';

// A VP over /dev/null: MSHV_RUN_VP and every other ioctl answer ENOTTY, and
// there is no register page (no mmap: ENODEV).
let nullFd: number;
beforeEach(() => {
  nullFd = openSync('/dev/null', 'r+');
});
afterEach(() => closeSync(nullFd));

function runAsync(vp: MshvVp): Promise<{ error: Error | null; messageType: number }> {
  return new Promise((resolve) => vp.runAsync((error, messageType) => resolve({ error, messageType })));
}

describe('MshvVp over a fd without MSHV', () => {
  it('has a 256-byte message buffer and no register page', () => {
    using vp = addon.testing.vpOverFd(nullFd);
    expect(vp.message.byteLength).toBe(256);
    expect(vp.message).toBe(vp.message);
    expect(vp.registerPage).toBeNull();
  });

  it('run() throws the run ioctl\'s system error; runAsync() hands it to done', async () => {
    using vp = addon.testing.vpOverFd(nullFd);
    expect(() => vp.run()).toThrow(systemError('ENOTTY', 'MSHV_RUN_VP'));
    const { error, messageType } = await runAsync(vp);
    expect(error).toEqual(systemError('ENOTTY', 'MSHV_RUN_VP'));
    expect(messageType).toBe(HVMSG.NONE);
  });

  it('ioctl with a pointer fails cleanly and leaves the data as it was', () => {
    using vp = addon.testing.vpOverFd(nullFd);
    const data = new Uint8Array(4096).fill(7);
    const arg = new Uint8Array(VP_STATE.size);
    expect(() => vp.ioctl(MSHV_IOCTL.MSHV_GET_VP_STATE, arg, [{ offset: VP_STATE.bufPtr, data }])).toThrow(systemError('ENOTTY', 'MSHV_GET_VP_STATE'));
    expect(data.every((byte) => byte === 7)).toBe(true);
    expect(() => vp.ioctl(MSHV_IOCTL.MSHV_RUN_VP, new Uint8Array(256))).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });

  it('while a runAsync() is pending every other use throws ERR_HYPERLIGHT_RUN_PENDING', async () => {
    using vp = addon.testing.vpOverFd(nullFd);
    const done = runAsync(vp);
    const pending = expect.objectContaining({ code: 'ERR_HYPERLIGHT_RUN_PENDING' });
    expect(() => vp.run()).toThrow(pending);
    expect(() => vp.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, new Uint8Array(32))).toThrow(pending);
    expect(() => vp.message).toThrow(pending);
    expect(vp.cancel(1)).toBe(false); // the call guard members still work
    await done;
  });

  it('dispose() during a runAsync() stops it; done is never called', async () => {
    const vp = addon.testing.vpOverFd(nullFd);
    const done = vi.fn();
    vp.runAsync(done);
    vp.dispose();
    await sleep(50);
    expect(done).not.toHaveBeenCalled();
  });
});

describe('MshvVp cancellation (no immediate-exit byte)', () => {
  it('a cancelled call is never entered: run() returns HVMSG_NONE without the ioctl, runAsync() resolves interrupted', async () => {
    using vp = addon.testing.vpOverFd(nullFd);
    const guard = new CallStateGuard('mshv', vp, new Uint32Array(vp.callState));
    expect(vp.cancel(1)).toBe(false); // no call open
    guard.begin();
    expect(guard.token.id).toBe(vp.cancelId);
    expect(addon.cancelCall(vp.cancelId, 3)).toBe(true);
    expect(addon.cancelCall(vp.cancelId, 1)).toBe(false); // already cancelled
    expect(vp.run()).toBe(HVMSG.NONE); // interrupt_pending(): no ENOTTY, the ioctl was skipped
    expect(await runAsync(vp)).toEqual({ error: null, messageType: HVMSG.NONE });
    expect(guard.end()).toBe('aborted');
    guard.release();
  });

  it('armTimeout cancels the open call with timeout; the cancel listener hears it', async () => {
    using vp = addon.testing.vpOverFd(nullFd, true);
    expect(() => vp.armTimeout(10)).toThrow(/no call is open/);
    const guard = new CallStateGuard('mshv', vp, new Uint32Array(vp.callState));
    const heard = new Promise<number>((resolve) => vp.setCancelListener((_seq, reason) => resolve(reason)));
    guard.begin(5);
    expect(await heard).toBe(2);
    vp.setCancelListener(null);
    expect(guard.end()).toBe('timeout');
    guard.release();
    expect(() => vp.cancel(0)).toThrow(expect.objectContaining({ name: 'RangeError' }));
    expect(() => vp.armTimeout(0)).toThrow(expect.objectContaining({ name: 'RangeError' }));
  });

  it('cancel ids are unique per VP', () => {
    using a = addon.testing.vpOverFd(nullFd);
    using b = addon.testing.vpOverFd(nullFd);
    expect(a.cancelId).toBeGreaterThan(0);
    expect(b.cancelId).not.toBe(a.cancelId);
    expect(new Uint32Array(a.callState)).toHaveLength(1);
  });
});

describe('MshvVp register page', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mshv-vp-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('maps page 0 of the VP fd shared; dispose() detaches it and unmaps it', () => {
    const path = join(dir, 'page');
    const fd = openSync(path, 'w+');
    try {
      ftruncateSync(fd, 4096);
      const fds = openFdCount();
      const vp = addon.testing.vpOverFd(fd);
      const page = vp.registerPage!;
      expect(page.byteLength).toBe(4096);
      new DataView(page).setBigUint64(136, 0x1234n, true); // rip
      const read = new Uint8Array(8);
      readSync(fd, read, 0, 8, 136);
      expect(new DataView(read.buffer).getBigUint64(0, true)).toBe(0x1234n);
      vp.dispose();
      expect(page.byteLength).toBe(0);
      expect(openFdCount()).toBe(fds); // the fd, and the mapping's hold on the file, are gone
      vp.dispose();
    } finally {
      closeSync(fd);
    }
  });
});

describe('MshvVp disposed', () => {
  it('every member throws ERR_HYPERLIGHT_DISPOSED after dispose(), which closes the fd', () => {
    const before = openFdCount();
    const vp = addon.testing.vpOverFd(nullFd);
    expect(openFdCount()).toBe(before + 1);
    vp.dispose();
    expect(openFdCount()).toBe(before);
    expect(expectEveryMemberDisposed(vp, addon.MshvVp.prototype, 'MshvVp')).toEqual([
      'message', 'registerPage', 'ioctl', 'run', 'runAsync', 'callState', 'cancelId', 'cancel', 'armTimeout', 'setCancelListener',
    ]);
  });
});
