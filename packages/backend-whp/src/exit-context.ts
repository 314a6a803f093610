/**
 * Decodes a `WHV_RUN_VP_EXIT_CONTEXT` (224 bytes, filled by
 * WHvRunVirtualProcessor) into core's neutral `VmExit`. Everything here is
 * read from guest-controlled state, so every field is range-checked and
 * anything unexpected becomes `unknown` with the raw numbers.
 *
 * WHP does not complete `in`/`out`: RIP still points at the instruction. For
 * those exits the decoded result carries the registers that complete it
 * (`completion`), which the VM writes before the next run.
 */
import type { MemoryAccess, VmExit } from '@hyperlight-ts/core/backend';
import {
  EXIT_CONTEXT as X, IO_ACCESS_INFO as IO, MEMORY_ACCESS_INFO as MEM, WHV_EXIT_REASON as R, WHV_EXIT_REASON_NAMES,
  WHV_UNSUPPORTED_FEATURE_NAMES,
} from './whp-abi.js';
import { hex32 } from './whp-error.js';

/** Registers that complete an `in`/`out` the hypervisor stopped at. */
export interface IoCompletion {
  /** RIP after the instruction. */
  readonly rip: bigint;
  /** For `in`: RAX with the bytes read replaced by zeros. */
  readonly rax?: bigint;
}

/** A decoded exit, and what completes it when it was port I/O. */
export interface DecodedExit {
  readonly exit: VmExit;
  readonly completion?: IoCompletion;
}

const HALT: DecodedExit = Object.freeze({ exit: Object.freeze({ kind: 'halt' }) });
const TRIPLE_FAULT: DecodedExit = Object.freeze({ exit: Object.freeze({ kind: 'triple-fault' }) });
/** WHvRunVpExitReasonCanceled: the VM decides whether the open call was cancelled or the run just stopped. */
export const CANCELED: DecodedExit = Object.freeze({ exit: Object.freeze({ kind: 'cancelled' }) });

const ACCESS_TYPES: readonly MemoryAccess[] = ['read', 'write', 'execute'];

/**
 * Decodes the exit context `context` (at least 224 bytes).
 * @throws RangeError when `context` is shorter than `WHV_RUN_VP_EXIT_CONTEXT`.
 */
export function decodeExitContext(context: Uint8Array): DecodedExit {
  if (context.byteLength < X.size) throw new RangeError(`an exit context is ${X.size} bytes; got ${context.byteLength}`);
  const view = new DataView(context.buffer, context.byteOffset, X.size);
  const reason = view.getUint32(X.exitReason, true);
  switch (reason) {
    case R.x64IoPortAccess:
      return decodeIo(view);
    case R.memoryAccess:
      return decodeMemoryAccess(view);
    case R.x64Halt:
      return HALT;
    case R.unrecoverableException:
      return TRIPLE_FAULT;
    case R.invalidVpRegisterValue:
      return { exit: { kind: 'invalid-state', detail: `WHvRunVpExitReasonInvalidVpRegisterValue at rip ${ripOf(view)}` } };
    case R.unsupportedFeature: {
      const code = view.getUint32(X.unsupportedFeatureCode, true);
      const parameter = view.getBigUint64(X.unsupportedFeatureParameter, true);
      const name = WHV_UNSUPPORTED_FEATURE_NAMES.get(code) ?? 'unknown';
      return {
        exit: {
          kind: 'hypervisor-error',
          detail: `WHvRunVpExitReasonUnsupportedFeature: feature ${code} (${name}), parameter 0x${parameter.toString(16)}`,
        },
      };
    }
    case R.canceled:
      return CANCELED;
    default: {
      const name = WHV_EXIT_REASON_NAMES.get(reason);
      return { exit: { kind: 'unknown', detail: `WHP exit reason ${hex32(reason)}${name === undefined ? '' : ` (${name})`} at rip ${ripOf(view)}` } };
    }
  }
}

function decodeIo(view: DataView): DecodedExit {
  const info = view.getUint32(X.accessInfo, true);
  const port = view.getUint16(X.ioPort, true);
  const size = (info >>> IO.accessSizeShift) & IO.accessSizeMask;
  const isWrite = (info & IO.isWrite) !== 0;
  if ((info & (IO.stringOp | IO.repPrefix)) !== 0 || (size !== 1 && size !== 2 && size !== 4)) {
    // ins/outs (or a size the architecture lacks): completing them would mean emulating memory access.
    return {
      exit: {
        kind: 'unknown',
        detail: `WHP port I/O the backend does not complete: port 0x${port.toString(16)}, AccessInfo ${hex32(info)} at rip ${ripOf(view)}`,
      },
    };
  }
  const length = view.getUint8(X.instructionLengthCr8) & 0xf;
  const rip = BigInt.asUintN(64, view.getBigUint64(X.rip, true) + BigInt(length));
  const rax = view.getBigUint64(X.ioRax, true);
  if (isWrite) {
    const value = Number(rax & ((1n << BigInt(size * 8)) - 1n));
    return { exit: { kind: 'io-out', port, size, value }, completion: { rip } };
  }
  // A 32-bit register write zero-extends to 64 bits; 8- and 16-bit writes keep the rest.
  const zeroed = size === 4 ? 0n : rax & ~((1n << BigInt(size * 8)) - 1n);
  return { exit: { kind: 'io-in', port, size }, completion: { rip, rax: zeroed } };
}

function decodeMemoryAccess(view: DataView): DecodedExit {
  const info = view.getUint32(X.accessInfo, true);
  const gpa = view.getBigUint64(X.memoryGpa, true);
  const access = ACCESS_TYPES[info & MEM.accessTypeMask];
  if (access === undefined) {
    return { exit: { kind: 'unknown', detail: `WHP memory access of type 3 at gpa 0x${gpa.toString(16)}, AccessInfo ${hex32(info)}` } };
  }
  return { exit: { kind: 'memory-fault', gpa, access, unmapped: (info & MEM.gpaUnmapped) !== 0 } };
}

function ripOf(view: DataView): string {
  return `0x${view.getBigUint64(X.rip, true).toString(16)}`;
}
