/**
 * Every error hyperlight-ts throws. Each class has a stable `code` (the
 * contract; messages may change) and {@link POISONS} says whether it leaves
 * the sandbox poisoned.
 */
import type { BackendName, BackendUnavailableReason } from './backend/backend.js';
import { BackendError } from './backend/backend-error.js';

import { excerptName } from './sandbox/safe-text.js';

/** Base class of every hyperlight-ts error. Switch on `code`, not on the message. */
export abstract class HyperlightError extends Error {
  /** Stable machine-readable identifier, `HL_ERR_*`. */
  abstract readonly code: `HL_ERR_${string}`;
}

/** The guest gave up with an abort code and message (e.g. `hl_abort`). */
export class GuestAbortedError extends HyperlightError {
  override readonly name = 'GuestAbortedError';
  readonly code = 'HL_ERR_GUEST_ABORTED';
  /**
   * @param abortCode - the code the guest passed (runtime-reserved codes are `>= 0x80000000`)
   * @param guestMessage - the guest's message (may be empty)
   */
  constructor(readonly abortCode: number, readonly guestMessage: string, options?: ErrorOptions) {
    super(`guest aborted (code ${abortCode})${guestMessage ? `: ${guestMessage}` : ''}`, options);
  }
}

/** Guest code panicked (Rust `panic!`, C `assert`). */
export class GuestPanicError extends HyperlightError {
  override readonly name = 'GuestPanicError';
  readonly code = 'HL_ERR_GUEST_PANICKED';
  /** @param guestMessage - the panic text, including source location when the guest sent it */
  constructor(readonly guestMessage: string, options?: ErrorOptions) {
    super(`guest panicked: ${guestMessage}`, options);
  }
}

/** The guest's heap was exhausted. */
export class GuestOutOfMemoryError extends HyperlightError {
  override readonly name = 'GuestOutOfMemoryError';
  readonly code = 'HL_ERR_GUEST_OUT_OF_MEMORY';
  /** @param guestMessage - what the guest runtime reported */
  constructor(readonly guestMessage: string, options?: ErrorOptions) {
    super(`guest ran out of heap memory${guestMessage ? `: ${guestMessage}` : ''} (raise heapSize?)`, options);
  }
}

/** Names of the x86 exception vectors, for messages. */
const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0: '#DE divide error', 1: '#DB debug', 2: 'NMI', 3: '#BP breakpoint', 4: '#OF overflow',
  5: '#BR bound range', 6: '#UD invalid opcode', 7: '#NM device not available', 8: '#DF double fault',
  10: '#TS invalid TSS', 11: '#NP segment not present', 12: '#SS stack fault',
  13: '#GP general protection', 14: '#PF page fault', 16: '#MF x87 floating point',
  17: '#AC alignment check', 18: '#MC machine check', 19: '#XM SIMD floating point',
  20: '#VE virtualization', 21: '#CP control protection',
};

/** A CPU exception in guest code (invalid opcode, page fault, ...). */
export class GuestExceptionError extends HyperlightError {
  override readonly name = 'GuestExceptionError';
  readonly code = 'HL_ERR_GUEST_EXCEPTION';
  /**
   * @param vector - x86 exception vector (0-31)
   * @param rip - guest instruction pointer at the fault
   * @param errorCode - the CPU's error code, for vectors that push one
   * @param faultAddress - CR2, for page faults
   */
  constructor(
    readonly vector: number,
    readonly rip: bigint,
    readonly errorCode?: bigint,
    readonly faultAddress?: bigint,
    options?: ErrorOptions,
  ) {
    const parts = [`guest exception ${vector} (${VECTOR_NAMES[vector] ?? 'reserved'}) at rip 0x${rip.toString(16)}`];
    if (errorCode !== undefined) parts.push(`error code 0x${errorCode.toString(16)}`);
    if (faultAddress !== undefined) parts.push(`address 0x${faultAddress.toString(16)}`);
    super(parts.join(', '), options);
  }
}

/** The guest overflowed its stack (a fault in the guard page below the stack). */
export class GuestStackOverflowError extends HyperlightError {
  override readonly name = 'GuestStackOverflowError';
  readonly code = 'HL_ERR_GUEST_STACK_OVERFLOW';
  /**
   * @param rip - guest instruction pointer at the fault
   * @param faultAddress - the guard-page address touched
   */
  constructor(readonly rip: bigint, readonly faultAddress: bigint, options?: ErrorOptions) {
    super(`guest stack overflow at rip 0x${rip.toString(16)} (touched 0x${faultAddress.toString(16)}; raise stackSize?)`, options);
  }
}

/** The guest wrote to an I/O port that is not part of the ABI. */
export class GuestUnknownPortError extends HyperlightError {
  override readonly name = 'GuestUnknownPortError';
  readonly code = 'HL_ERR_GUEST_UNKNOWN_PORT';
  /** @param port - the port number @param access - whether the guest wrote or read it */
  constructor(readonly port: number, readonly access: 'in' | 'out', options?: ErrorOptions) {
    super(`guest ${access === 'out' ? 'wrote to' : 'read from'} unknown I/O port 0x${port.toString(16)}`, options);
  }
}

/** The guest broke the ABI: a malformed frame or message, an impossible exit. */
export class GuestProtocolError extends HyperlightError {
  override readonly name = 'GuestProtocolError';
  readonly code = 'HL_ERR_GUEST_PROTOCOL';
  /** @param detail - what was wrong */
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(`guest broke the host/guest protocol: ${detail}`, options);
  }
}

/** Why a guest call was stopped before it finished (see {@link GuestCancelledError}). */
export type GuestCancelReason =
  /** `InterruptHandle.kill()`. */
  | 'killed'
  /** The call's `AbortSignal` fired; `cause` is the signal's reason. */
  | 'aborted'
  /** The sandbox was disposed while the call ran. */
  | 'disposed';

/** The guest call was stopped from outside before it finished. */
export class GuestCancelledError extends HyperlightError {
  override readonly name = 'GuestCancelledError';
  readonly code = 'HL_ERR_GUEST_CANCELLED';
  /** @param reason - what stopped it @param functionName - the guest function, or undefined for initialisation */
  constructor(readonly reason: GuestCancelReason, readonly functionName: string | undefined, options?: ErrorOptions) {
    const what = functionName === undefined ? 'guest initialisation' : `guest call "${functionName}"`;
    const by = { killed: 'by InterruptHandle.kill()', aborted: 'by its AbortSignal', disposed: 'because the sandbox was disposed' }[reason];
    super(`${what} was cancelled ${by}`, options);
  }
}

/** Which limit a {@link GuestTimeoutError} hit. */
export type GuestTimeoutLimit =
  /** The sandbox's `timeoutMs` option. */
  | 'sandbox'
  /** The call's own `timeoutMs` (`sandbox.with({ timeoutMs })`). */
  | 'call';

/** The guest ran longer than its time limit and was stopped. */
export class GuestTimeoutError extends HyperlightError {
  override readonly name = 'GuestTimeoutError';
  readonly code = 'HL_ERR_GUEST_TIMEOUT';
  /**
   * @param limit - which limit fired @param timeoutMs - its value
   * @param functionName - the guest function, or undefined for initialisation
   */
  constructor(readonly limit: GuestTimeoutLimit, readonly timeoutMs: number, readonly functionName: string | undefined, options?: ErrorOptions) {
    const what = functionName === undefined ? 'guest initialisation' : `guest call "${functionName}"`;
    const option = limit === 'sandbox' ? "the sandbox's timeoutMs option" : "the call's timeoutMs";
    super(`${what} timed out after ${timeoutMs} ms (${option})`, options);
  }
}

/** No guest function has the requested name. */
export class GuestFunctionNotFoundError extends HyperlightError {
  override readonly name = 'GuestFunctionNotFoundError';
  readonly code = 'HL_ERR_GUEST_FUNCTION_NOT_FOUND';
  /** @param functionName - the name asked for */
  constructor(readonly functionName: string, options?: ErrorOptions) {
    super(`guest function "${functionName}" not found`, options);
  }
}

/** A call passed the wrong number of arguments. */
export class WrongArgumentCountError extends HyperlightError {
  override readonly name = 'WrongArgumentCountError';
  readonly code = 'HL_ERR_WRONG_ARGUMENT_COUNT';
  /** @param functionName - callee @param expected - declared count @param actual - given count */
  constructor(readonly functionName: string, readonly expected: number, readonly actual: number, options?: ErrorOptions) {
    super(`function "${functionName}" takes ${expected} argument${expected === 1 ? '' : 's'} but was called with ${actual}`, options);
  }
}

/** An argument does not match its declared type. */
export class WrongArgumentTypeError extends HyperlightError {
  override readonly name = 'WrongArgumentTypeError';
  readonly code = 'HL_ERR_WRONG_ARGUMENT_TYPE';
  /**
   * @param functionName - callee
   * @param index - zero-based argument position
   * @param expected - declared type
   * @param actual - description of what was given
   */
  constructor(readonly functionName: string, readonly index: number, readonly expected: string, readonly actual: string, options?: ErrorOptions) {
    super(`argument ${index} of function "${functionName}" must be ${expected}, got ${actual}`, options);
  }
}

/** The caller expected a different return type than the function declares. */
export class WrongReturnTypeError extends HyperlightError {
  override readonly name = 'WrongReturnTypeError';
  readonly code = 'HL_ERR_WRONG_RETURN_TYPE';
  /** @param functionName - callee @param expected - what the caller asked for @param actual - what the function declares or returned */
  constructor(readonly functionName: string, readonly expected: string, readonly actual: string, options?: ErrorOptions) {
    super(`function "${functionName}" returns ${actual}, not ${expected}`, options);
  }
}

/** A guest function reported an error of its own. */
export class GuestFunctionError extends HyperlightError {
  override readonly name = 'GuestFunctionError';
  readonly code = 'HL_ERR_GUEST_FUNCTION_FAILED';
  /** @param functionName - the guest function @param guestMessage - its error text */
  constructor(readonly functionName: string, readonly guestMessage: string, options?: ErrorOptions) {
    super(`guest function "${functionName}" failed: ${guestMessage}`, options);
  }
}

/** The guest called a host function that was never registered. */
export class HostFunctionNotFoundError extends HyperlightError {
  override readonly name = 'HostFunctionNotFoundError';
  readonly code = 'HL_ERR_HOST_FUNCTION_NOT_FOUND';
  /** @param functionName - the name the guest asked for (the message quotes at most 256 characters of it) */
  constructor(readonly functionName: string, options?: ErrorOptions) {
    super(`host function "${excerptName(functionName)}" is not registered`, options);
  }
}

/** A host function threw (or returned a value that does not match its signature). */
export class HostFunctionError extends HyperlightError {
  override readonly name = 'HostFunctionError';
  readonly code = 'HL_ERR_HOST_FUNCTION_FAILED';
  /** @param functionName - the host function @param detail - what went wrong; the thrown value is `cause` */
  constructor(readonly functionName: string, readonly detail: string, options?: ErrorOptions) {
    super(`host function "${functionName}" failed: ${detail}`, options);
  }
}

/**
 * A host callback that is not a host function (the `print` function, the
 * `logger`, a method of the `tracing` collector's session, or the `clock`
 * function, which also fails by returning no valid reading) threw. The guest
 * ran to the end regardless (a session's `beginRun` that throws stops the run
 * before the guest is entered); the sandbox is not poisoned. `cause` is the
 * thrown value.
 */
export class HostCallbackError extends HyperlightError {
  override readonly name = 'HostCallbackError';
  readonly code = 'HL_ERR_HOST_CALLBACK_FAILED';
  /** @param callback - which callback failed @param detail - its message */
  constructor(readonly callback: 'print' | 'logger' | 'tracing' | 'clock', readonly detail: string, options?: ErrorOptions) {
    super(`the sandbox's ${callback} callback threw: ${detail}`, options);
  }
}

/** A host function registration is invalid (bad name, signature or duplicate). */
export class InvalidHostFunctionError extends HyperlightError {
  override readonly name = 'InvalidHostFunctionError';
  readonly code = 'HL_ERR_HOST_FUNCTION_INVALID';
  /** @param functionName - the name being registered @param detail - what is wrong */
  constructor(readonly functionName: string, readonly detail: string, options?: ErrorOptions) {
    super(`cannot register host function "${functionName}": ${detail}`, options);
  }
}

/** The sandbox is poisoned by an earlier failure; `cause` is that failure. */
export class PoisonedSandboxError extends HyperlightError {
  override readonly name = 'PoisonedSandboxError';
  readonly code = 'HL_ERR_SANDBOX_POISONED';
  /** @param poison - the error that poisoned the sandbox */
  constructor(readonly poison: HyperlightError) {
    super(`sandbox is poisoned by an earlier ${poison.code}: ${poison.message}`, { cause: poison });
  }
}

/** The sandbox was used in a state that does not allow the operation. */
export class SandboxStateError extends HyperlightError {
  override readonly name = 'SandboxStateError';
  readonly code = 'HL_ERR_SANDBOX_STATE';
  /** @param detail - what was attempted and why it is not allowed */
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(detail, options);
  }
}

/** The guest binary is not a loadable guest ELF. */
export class InvalidGuestBinaryError extends HyperlightError {
  override readonly name = 'InvalidGuestBinaryError';
  readonly code = 'HL_ERR_INVALID_GUEST_BINARY';
  /** @param detail - what is wrong with it */
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(`invalid guest binary: ${detail}`, options);
  }
}

/** A configuration value is missing, of the wrong type or out of range. */
export class ConfigurationError extends HyperlightError {
  override readonly name = 'ConfigurationError';
  readonly code = 'HL_ERR_CONFIG_INVALID';
  /** @param option - the option's name @param detail - what is wrong and what is allowed */
  constructor(readonly option: string, readonly detail: string, options?: ErrorOptions) {
    super(`invalid configuration "${option}": ${detail}`, options);
  }
}

/** Why one backend candidate could not be used. */
export interface BackendCandidateFailure {
  readonly backend: BackendName;
  readonly reason: BackendUnavailableReason;
  readonly detail: string;
}

/** No hypervisor backend is usable; `candidates` says why for each. */
export class BackendUnavailableError extends HyperlightError {
  override readonly name = 'BackendUnavailableError';
  readonly code = 'HL_ERR_BACKEND_UNAVAILABLE';
  /** @param candidates - every backend tried, with the reason it failed */
  constructor(readonly candidates: readonly BackendCandidateFailure[], options?: ErrorOptions) {
    super(
      `no usable hypervisor backend:\n${candidates.map((c) => `  - ${c.backend}: ${c.reason} (${c.detail})`).join('\n')}`,
      options,
    );
  }
}

/**
 * The hypervisor failed an operation. When the backend refused it, `cause` is
 * the backend's {@link BackendError} (`KvmError`, `MshvError`, `WhpError`),
 * with what the hypervisor reported (an errno, an HRESULT).
 */
export class HypervisorError extends HyperlightError {
  override readonly name = 'HypervisorError';
  readonly code = 'HL_ERR_HYPERVISOR';
  /** The backend that failed, when `cause` is its {@link BackendError}. */
  readonly backend?: BackendName;
  /** @param operation - what core asked for @param detail - what the hypervisor said */
  constructor(readonly operation: string, readonly detail: string, options?: ErrorOptions) {
    super(`hypervisor failed to ${operation}: ${detail}`, options);
    if (options?.cause instanceof BackendError) this.backend = options.cause.backend;
  }
}

/** A message does not fit in the buffer that must carry it (raise inputSize / outputSize). */
export class MessageTooLargeError extends HyperlightError {
  override readonly name = 'MessageTooLargeError';
  readonly code = 'HL_ERR_MESSAGE_TOO_LARGE';
  /**
   * @param what - the message being written
   * @param sizeBytes - its framed size, when known
   * @param capacityBytes - the buffer's size
   * @param option - the configuration option that sets the buffer's size
   */
  constructor(readonly what: string, readonly sizeBytes: number | undefined, readonly capacityBytes: number, readonly option: string, options?: ErrorOptions) {
    super(`${what} ${sizeBytes === undefined ? 'does not fit in' : `needs ${sizeBytes} bytes, more than`} the ${capacityBytes}-byte buffer (raise ${option})`, options);
  }
}

/** Why a snapshot cannot be used with a sandbox. */
export type SnapshotMismatchReason = 'binary' | 'layout' | 'configuration' | 'host-functions' | 'backend' | 'cpu';

/**
 * A snapshot does not belong to the sandbox it was given to: another guest
 * binary or memory layout, a different configuration, host functions that do
 * not cover the snapshot's, or another backend or CPU.
 */
export class SnapshotMismatchError extends HyperlightError {
  override readonly name = 'SnapshotMismatchError';
  readonly code = 'HL_ERR_SNAPSHOT_MISMATCH';
  /** @param reason - which property differs @param detail - what differs, with both values */
  constructor(readonly reason: SnapshotMismatchReason, readonly detail: string, options?: ErrorOptions) {
    super(`snapshot does not match the sandbox (${reason}): ${detail}`, options);
  }
}

/** Why a snapshot file cannot be loaded. */
export type SnapshotFileProblem = 'io' | 'not-a-snapshot' | 'truncated' | 'corrupt' | 'version' | 'architecture';

/** A snapshot file cannot be written or read: I/O failure, not a snapshot, truncated, corrupt, another format version or architecture. */
export class SnapshotFileError extends HyperlightError {
  override readonly name = 'SnapshotFileError';
  readonly code = 'HL_ERR_SNAPSHOT_FILE';
  /** @param path - the file @param problem - what kind of failure @param detail - what exactly */
  constructor(readonly path: string, readonly problem: SnapshotFileProblem, readonly detail: string, options?: ErrorOptions) {
    super(`snapshot file ${path}: ${detail}`, options);
  }
}

/** A snapshot was used after `dispose()`. */
export class SnapshotDisposedError extends HyperlightError {
  override readonly name = 'SnapshotDisposedError';
  readonly code = 'HL_ERR_SNAPSHOT_DISPOSED';
  /** @param action - what was attempted */
  constructor(readonly action: string, options?: ErrorOptions) {
    super(`cannot ${action}: the snapshot is disposed`, options);
  }
}

/** Every error class, so the code union and POISONS stay complete. */
type AnyHyperlightError =
  | GuestAbortedError | GuestPanicError | GuestOutOfMemoryError | GuestExceptionError
  | GuestStackOverflowError | GuestUnknownPortError | GuestProtocolError | GuestCancelledError | GuestTimeoutError
  | GuestFunctionNotFoundError | WrongArgumentCountError | WrongArgumentTypeError
  | WrongReturnTypeError | GuestFunctionError | HostFunctionNotFoundError | HostFunctionError | HostCallbackError
  | InvalidHostFunctionError | PoisonedSandboxError | SandboxStateError | InvalidGuestBinaryError
  | ConfigurationError | BackendUnavailableError | HypervisorError | MessageTooLargeError
  | SnapshotMismatchError | SnapshotFileError | SnapshotDisposedError;

/** Union of every stable error code. */
export type HyperlightErrorCode = AnyHyperlightError['code'];

/**
 * Whether an error with this code, raised during a guest call, leaves the
 * sandbox poisoned (guest state can no longer be trusted; only `restore()`
 * or a new sandbox recovers).
 */
export const POISONS = {
  HL_ERR_GUEST_ABORTED: true,
  HL_ERR_GUEST_PANICKED: true,
  HL_ERR_GUEST_OUT_OF_MEMORY: true,
  HL_ERR_GUEST_EXCEPTION: true,
  HL_ERR_GUEST_STACK_OVERFLOW: true,
  HL_ERR_GUEST_UNKNOWN_PORT: true,
  HL_ERR_GUEST_PROTOCOL: true,
  HL_ERR_GUEST_CANCELLED: true,
  HL_ERR_GUEST_TIMEOUT: true,
  HL_ERR_HYPERVISOR: true,
  HL_ERR_GUEST_FUNCTION_NOT_FOUND: false,
  HL_ERR_WRONG_ARGUMENT_COUNT: false,
  HL_ERR_WRONG_ARGUMENT_TYPE: false,
  HL_ERR_WRONG_RETURN_TYPE: false,
  HL_ERR_GUEST_FUNCTION_FAILED: false,
  HL_ERR_HOST_FUNCTION_NOT_FOUND: false,
  HL_ERR_HOST_FUNCTION_FAILED: false,
  HL_ERR_HOST_CALLBACK_FAILED: false,
  HL_ERR_HOST_FUNCTION_INVALID: false,
  HL_ERR_SANDBOX_POISONED: false,
  HL_ERR_SANDBOX_STATE: false,
  HL_ERR_INVALID_GUEST_BINARY: false,
  HL_ERR_CONFIG_INVALID: false,
  HL_ERR_BACKEND_UNAVAILABLE: false,
  HL_ERR_MESSAGE_TOO_LARGE: false,
  HL_ERR_SNAPSHOT_MISMATCH: false,
  HL_ERR_SNAPSHOT_FILE: false,
  HL_ERR_SNAPSHOT_DISPOSED: false,
} as const satisfies Record<HyperlightErrorCode, boolean>;
