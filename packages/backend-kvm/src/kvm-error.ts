/**
 * The KVM backend's {@link BackendError}: a syscall on `/dev/kvm`, a VM or a
 * vCPU fd (or on guest memory: memfd, mmap, pagemap) failed. The addon throws
 * Node-style system errors; {@link asKvmError} turns each into a KvmError at
 * the edge of this package, so core and applications see one error type.
 */
import { BackendError } from '@hyperlight-ts/core/backend';

/** A syscall of the KVM backend failed with an errno. */
export class KvmError extends BackendError {
  override readonly name = 'KvmError';

  /**
   * @param syscall - the ioctl or call that failed (`'KVM_RUN'`, `'mmap'`)
   * @param errno - the positive errno (`14`)
   * @param code - its name (`'EFAULT'`)
   * @param detail - what went wrong, in words
   */
  constructor(readonly syscall: string, readonly errno: number, readonly code: string, detail: string, options?: ErrorOptions) {
    super('kvm', syscall, detail, options);
  }
}

/** The fields the addon sets on a system error (`code` = errno name, `errno` negative). */
interface SystemError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  readonly path?: string;
}

function isSystemError(error: unknown): error is SystemError {
  if (!(error instanceof Error)) return false;
  const { code, errno, syscall } = error as Partial<SystemError>;
  return typeof code === 'string' && typeof errno === 'number' && typeof syscall === 'string';
}

/**
 * A {@link KvmError} with `error` as its cause when `error` is a system error
 * of the addon (or of Node); anything else (a RangeError for a bad argument,
 * the disposed-object error, a KvmError already) is returned as it is.
 */
export function asKvmError(error: unknown): unknown {
  if (error instanceof KvmError || !isSystemError(error)) return error;
  // The addon's messages read "<syscall> [<path>] failed: <detail>"; KvmError's message says the rest.
  const path = error.path === undefined ? '' : ` ${error.path}`;
  const prefix = `${error.syscall}${path} failed: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new KvmError(error.syscall, Math.abs(error.errno), error.code, path === '' ? detail : `${error.path}: ${detail}`, { cause: error });
}

/**
 * Runs `fn`, converting a system error it throws with {@link asKvmError}.
 * @throws KvmError for a failed syscall; whatever else `fn` throws, unchanged.
 */
export function kvmCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asKvmError(error);
  }
}
