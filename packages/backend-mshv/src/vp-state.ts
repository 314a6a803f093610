/**
 * The VP's x87/SSE/AVX state through `MSHV_GET/SET_VP_STATE` (type XSAVE, the
 * compacted XSAVE form), and the power-on reset `createVm` applies with it.
 * Buffers are whole pages; when a page is too small the kernel answers EINVAL
 * with the size it needs in `buf_sz`, and the read is repeated with that.
 */
import { MSHV_IOCTL, PAGE_SIZE, VP_STATE, XSAVE } from './mshv-abi.js';
import { asMshvError } from './mshv-error.js';
import type { MshvFd } from './mshv-ioctls.js';

/** Largest XSAVE buffer this backend asks for (the architectural maximum is far below). */
export const MAX_XSAVE_BYTES = 64 * 1024;

/**
 * Reads the VP's XSAVE area.
 * @returns a multiple of 4096 bytes.
 * @throws MshvError (`MSHV_GET_VP_STATE`).
 */
export function vpXsaveState(vp: MshvFd): Uint8Array {
  for (let size = PAGE_SIZE; ;) {
    const data = new Uint8Array(size);
    const arg = stateArg(size);
    try {
      vp.ioctl(MSHV_IOCTL.MSHV_GET_VP_STATE, arg, [{ offset: VP_STATE.bufPtr, data }]);
      return data;
    } catch (error) {
      const needed = new DataView(arg.buffer).getUint32(VP_STATE.bufSize, true);
      const code = (error as { code?: unknown }).code;
      if (code === 'EINVAL' && needed > size && needed <= MAX_XSAVE_BYTES) {
        size = Math.ceil(needed / PAGE_SIZE) * PAGE_SIZE;
        continue;
      }
      throw asMshvError('MSHV_GET_VP_STATE', error, undefined, 'XSAVE state');
    }
  }
}

/**
 * Loads an XSAVE area from {@link vpXsaveState}.
 * @throws TypeError unless `state` is a Uint8Array; RangeError unless its
 *   length is a positive multiple of 4096 (at most {@link MAX_XSAVE_BYTES});
 *   MshvError (`MSHV_SET_VP_STATE`) when the hypervisor refuses it.
 */
export function setVpXsaveState(vp: MshvFd, state: Uint8Array): void {
  if (!(state instanceof Uint8Array)) {
    throw Object.assign(new TypeError('state must be a Uint8Array from getFpuState()'), { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (state.byteLength === 0 || state.byteLength % PAGE_SIZE !== 0 || state.byteLength > MAX_XSAVE_BYTES) {
    const error = new RangeError(`state must be a multiple of ${PAGE_SIZE} bytes from getFpuState(); got ${state.byteLength}`);
    throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
  }
  try {
    vp.ioctl(MSHV_IOCTL.MSHV_SET_VP_STATE, stateArg(state.byteLength), [{ offset: VP_STATE.bufPtr, data: state.slice() }]);
  } catch (error) {
    throw asMshvError('MSHV_SET_VP_STATE', error, undefined, 'XSAVE state');
  }
}

/**
 * The power-on form of `current` (an XSAVE area of this VP): all zero except
 * FCW 0x37F, MXCSR 0x1F80, XSTATE_BV = x87|SSE, and `current`'s XCOMP_BV
 * (the compacted layout the hypervisor uses).
 */
export function powerOnXsave(current: Uint8Array): Uint8Array {
  const state = new Uint8Array(current.byteLength);
  state.set(current.subarray(XSAVE.xcompBv, XSAVE.xcompBv + 8), XSAVE.xcompBv);
  const view = new DataView(state.buffer);
  view.setUint16(XSAVE.fcw, XSAVE.fcwPowerOn, true);
  view.setUint32(XSAVE.mxcsr, XSAVE.mxcsrPowerOn, true);
  view.setBigUint64(XSAVE.xstateBv, XSAVE.xstateBvPowerOn, true);
  return state;
}

function stateArg(bufferSize: number): Uint8Array {
  const arg = new Uint8Array(VP_STATE.size);
  const view = new DataView(arg.buffer);
  view.setUint8(VP_STATE.type, VP_STATE.typeXsave);
  view.setUint32(VP_STATE.bufSize, bufferSize, true);
  return arg;
}
