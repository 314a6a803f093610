/**
 * Hypercalls through `MSHV_ROOT_HVCALL`: the in-kernel ABI has no ioctls for
 * registers or partition properties, so these go to the hypervisor as
 * hypercalls the kernel passes through (with its allow-list and size limits).
 * `HV_STATUS_INSUFFICIENT_MEMORY` comes back as EAGAIN after the kernel
 * deposited memory for the hypervisor: the call is simply repeated.
 */
import { HV_INPUT, HVCALL, MSHV_IOCTL, PAGE_SIZE, ROOT_HVCALL } from './mshv-abi.js';
import { asMshvError, MshvError } from './mshv-error.js';
import type { MshvFd, PointerArg } from './mshv-ioctls.js';

/** How often an EAGAIN hypercall is repeated before the error stands (each retry deposits a page). */
export const HVCALL_EAGAIN_RETRIES = 64;

/** A 16-byte `hv_register_value` with the register it belongs to. */
export interface RegisterAssoc {
  readonly name: number;
  /** 16 bytes. */
  readonly value: Uint8Array;
}

const HVCALL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(HVCALL).map(([name, code]) => [code, `HVCALL_${name}`]),
);

/**
 * Issues hypercall `code` with `input` on `fd`; `reps` > 0 makes it a rep
 * hypercall that must complete all of them.
 * @returns `outputSize` bytes of output.
 * @throws MshvError (`ioctl: 'MSHV_ROOT_HVCALL'`, `hvStatus`) when it fails.
 */
export function hvcall(fd: MshvFd, code: number, reps: number, input: Uint8Array, outputSize: number): Uint8Array {
  const name = HVCALL_NAMES[code] ?? `hypercall 0x${code.toString(16)}`;
  if (input.byteLength < 8 || input.byteLength > ROOT_HVCALL.maxBytes || outputSize > ROOT_HVCALL.maxBytes) {
    throw new RangeError(`${name}: input of ${input.byteLength} bytes or output of ${outputSize} is outside what MSHV_ROOT_HVCALL passes`);
  }
  const output = new Uint8Array(outputSize);
  for (let attempt = 0; ; attempt++) {
    const arg = new Uint8Array(ROOT_HVCALL.size);
    const view = new DataView(arg.buffer);
    view.setUint16(ROOT_HVCALL.code, code, true);
    view.setUint16(ROOT_HVCALL.reps, reps, true);
    view.setUint16(ROOT_HVCALL.inSize, input.byteLength, true);
    view.setUint16(ROOT_HVCALL.outSize, outputSize, true);
    const pointers: PointerArg[] = [{ offset: ROOT_HVCALL.inPtr, data: input }];
    if (outputSize > 0) pointers.push({ offset: ROOT_HVCALL.outPtr, data: output });
    try {
      fd.ioctl(MSHV_IOCTL.MSHV_ROOT_HVCALL, arg, pointers);
    } catch (error) {
      const status = view.getUint16(ROOT_HVCALL.status, true);
      if ((error as { code?: unknown }).code === 'EAGAIN' && attempt < HVCALL_EAGAIN_RETRIES) continue;
      throw asMshvError('MSHV_ROOT_HVCALL', error, status, name);
    }
    const done = view.getUint16(ROOT_HVCALL.reps, true);
    if (done !== reps) {
      throw new MshvError('MSHV_ROOT_HVCALL', 0, 'EREPS', `${name}: the hypervisor completed ${done} of ${reps} repetitions`);
    }
    return output;
  }
}

/**
 * Reads registers `names` of VP `vpIndex` (HVCALL_GET_VP_REGISTERS).
 * @returns one 16-byte value per name, in order.
 * @throws MshvError.
 */
export function getVpRegisters(fd: MshvFd, vpIndex: number, names: readonly number[]): Uint8Array[] {
  if (names.length === 0 || names.length > PAGE_SIZE / HV_INPUT.valueSize) throw new RangeError(`cannot get ${names.length} registers in one hypercall`);
  const input = new Uint8Array(HV_INPUT.vpRegistersHeader + HV_INPUT.nameSize * names.length);
  const view = new DataView(input.buffer);
  view.setUint32(HV_INPUT.vpIndex, vpIndex, true);
  names.forEach((name, i) => view.setUint32(HV_INPUT.vpRegistersHeader + HV_INPUT.nameSize * i, name, true));
  const output = hvcall(fd, HVCALL.GET_VP_REGISTERS, names.length, input, HV_INPUT.valueSize * names.length);
  return names.map((_, i) => output.subarray(HV_INPUT.valueSize * i, HV_INPUT.valueSize * (i + 1)));
}

/**
 * Writes `registers` of VP `vpIndex` (HVCALL_SET_VP_REGISTERS), in one hypercall.
 * @throws MshvError.
 */
export function setVpRegisters(fd: MshvFd, vpIndex: number, registers: readonly RegisterAssoc[]): void {
  const max = (ROOT_HVCALL.maxBytes - HV_INPUT.vpRegistersHeader) / HV_INPUT.assocSize;
  if (registers.length === 0 || registers.length > max) throw new RangeError(`cannot set ${registers.length} registers in one hypercall`);
  const input = new Uint8Array(HV_INPUT.vpRegistersHeader + HV_INPUT.assocSize * registers.length);
  const view = new DataView(input.buffer);
  view.setUint32(HV_INPUT.vpIndex, vpIndex, true);
  registers.forEach(({ name, value }, i) => {
    const at = HV_INPUT.vpRegistersHeader + HV_INPUT.assocSize * i;
    view.setUint32(at + HV_INPUT.assocName, name, true);
    input.set(value.subarray(0, HV_INPUT.valueSize), at + HV_INPUT.assocValue);
  });
  hvcall(fd, HVCALL.SET_VP_REGISTERS, registers.length, input, 0);
}

/**
 * Sets partition property `property` to `value` (partition fd only).
 * @throws MshvError.
 */
export function setPartitionProperty(partition: MshvFd, property: number, value: bigint): void {
  const input = new Uint8Array(HV_INPUT.setPropertySize);
  const view = new DataView(input.buffer);
  view.setUint32(HV_INPUT.propertyCode, property, true);
  view.setBigUint64(HV_INPUT.propertyValue, value, true);
  hvcall(partition, HVCALL.SET_PARTITION_PROPERTY, 0, input, 0);
}

/**
 * Reads partition property `property`.
 * @throws MshvError.
 */
export function getPartitionProperty(partition: MshvFd, property: number): bigint {
  const input = new Uint8Array(HV_INPUT.getPropertySize);
  new DataView(input.buffer).setUint32(HV_INPUT.propertyCode, property, true);
  const output = hvcall(partition, HVCALL.GET_PARTITION_PROPERTY, 0, input, 8);
  return new DataView(output.buffer, output.byteOffset).getBigUint64(0, true);
}

