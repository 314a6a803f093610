/**
 * Decodes the `struct hv_message` that `MSHV_RUN_VP` returns into core's
 * neutral {@link VmExit}, plus what the backend must do before the next run:
 * the hypervisor does not complete an intercepted `in`/`out`, so the VMM moves
 * RIP past it (and, for `in`, writes the zeroes the guest reads into RAX).
 */
import type { MemoryAccess, VmExit } from '@hyperlight-ts/core/backend';
import { HV_MESSAGE, HVMSG } from './mshv-abi.js';

/** Registers to write before the next run, so it resumes after the intercepted instruction. */
export interface ResumeState {
  /** The next instruction: the intercepted RIP plus the instruction's length. */
  readonly rip: bigint;
  /** RAX with the bytes an `in` read replaced by zeroes; undefined for `out`. */
  readonly rax?: bigint;
}

/** An exit and, for port I/O, how to complete the instruction. */
export interface DecodedExit {
  readonly exit: VmExit;
  readonly resume?: ResumeState;
}

const ACCESS_TYPES: readonly MemoryAccess[] = ['read', 'write', 'execute'];
const ACCESS_WRITE = 1;
const IO_SIZE_MASK = 0x7;
const IO_STRING_OR_REP = 0x18;
const HALT: VmExit = Object.freeze({ kind: 'halt' });
const TRIPLE_FAULT: VmExit = Object.freeze({ kind: 'triple-fault' });

const MESSAGE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(HVMSG).map(([name, value]) => [value, `HVMSG_${name}`]),
);

/**
 * Decodes one message (256 bytes; the hypervisor wrote it, but every field is
 * still range-checked, and anything unexpected becomes an `unknown` exit).
 * @throws RangeError when `message` is shorter than an hv_message.
 */
export function decodeMessage(message: DataView): DecodedExit {
  if (message.byteLength < HV_MESSAGE.size) throw new RangeError(`an hv_message has ${HV_MESSAGE.size} bytes; got ${message.byteLength}`);
  const type = message.getUint32(HV_MESSAGE.type, true);
  switch (type) {
    case HVMSG.X64_IO_PORT_INTERCEPT:
      return decodePortIo(message);
    case HVMSG.UNMAPPED_GPA:
    case HVMSG.GPA_INTERCEPT:
      return decodeMemory(message, type === HVMSG.UNMAPPED_GPA);
    case HVMSG.X64_HALT:
      return { exit: HALT };
    case HVMSG.UNRECOVERABLE_EXCEPTION:
      return { exit: TRIPLE_FAULT };
    case HVMSG.INVALID_VP_REGISTER_VALUE:
      return { exit: { kind: 'invalid-state', detail: `HVMSG_INVALID_VP_REGISTER_VALUE at rip ${hex(rip(message))}` } };
    case HVMSG.UNSUPPORTED_FEATURE: {
      const feature = message.getUint32(HV_MESSAGE.unsupportedFeatureCode, true);
      const parameter = message.getBigUint64(HV_MESSAGE.unsupportedFeatureParameter, true);
      return { exit: { kind: 'hypervisor-error', detail: `HVMSG_UNSUPPORTED_FEATURE: feature code ${feature}, parameter ${hex(parameter)}` } };
    }
    default:
      return unknown(type, '');
  }
}

function decodePortIo(message: DataView): DecodedExit {
  const port = message.getUint16(HV_MESSAGE.ioPort, true);
  const accessInfo = message.getUint8(HV_MESSAGE.ioAccessInfo);
  const size = accessInfo & IO_SIZE_MASK;
  if ((accessInfo & IO_STRING_OR_REP) !== 0 || (size !== 1 && size !== 2 && size !== 4)) {
    return unknown(HVMSG.X64_IO_PORT_INTERCEPT, `: port ${hex(port)}, access info ${hex(accessInfo)} (string, rep or odd-sized I/O)`);
  }
  const rax = message.getBigUint64(HV_MESSAGE.ioRax, true);
  const next = rip(message) + BigInt(message.getUint8(HV_MESSAGE.instructionLength) & 0xf);
  const sizeMask = (1n << BigInt(size * 8)) - 1n;
  if (message.getUint8(HV_MESSAGE.interceptAccessType) === ACCESS_WRITE) {
    return { exit: { kind: 'io-out', port, size, value: Number(rax & sizeMask) }, resume: { rip: next } };
  }
  // `in eax` zero-extends into RAX; `in al`/`in ax` keep the bytes above.
  const zeroed = size === 4 ? 0n : rax & ~sizeMask & 0xffff_ffff_ffff_ffffn;
  return { exit: { kind: 'io-in', port, size }, resume: { rip: next, rax: zeroed } };
}

function decodeMemory(message: DataView, unmapped: boolean): DecodedExit {
  const type = unmapped ? HVMSG.UNMAPPED_GPA : HVMSG.GPA_INTERCEPT;
  const gpa = message.getBigUint64(HV_MESSAGE.memoryGpa, true);
  const accessType = message.getUint8(HV_MESSAGE.interceptAccessType);
  const access = ACCESS_TYPES[accessType];
  if (access === undefined) return unknown(type, `: gpa ${hex(gpa)}, access type ${accessType}`);
  return { exit: { kind: 'memory-fault', gpa, access, unmapped } };
}

function unknown(type: number, more: string): DecodedExit {
  const name = MESSAGE_NAMES[type];
  return { exit: { kind: 'unknown', detail: `${name === undefined ? 'hv_message type' : name} ${hex(type)}${more}` } };
}

function rip(message: DataView): bigint {
  return message.getBigUint64(HV_MESSAGE.rip, true);
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}
