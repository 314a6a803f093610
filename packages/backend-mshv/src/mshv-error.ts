/**
 * The MSHV backend's {@link BackendError}: a `/dev/mshv` ioctl failed. Carries
 * the errno the kernel returned and, for hypercalls passed through
 * `MSHV_ROOT_HVCALL`, the hypervisor's own HV_STATUS.
 */
import { constants as osConstants } from 'node:os';
import { BackendError } from '@hyperlight-ts/core/backend';
import { HV_STATUS } from './mshv-abi.js';

/** Options of {@link MshvError}. */
export interface MshvErrorOptions extends ErrorOptions {
  /** HV_STATUS of a failed hypercall (`MSHV_ROOT_HVCALL`). */
  readonly hvStatus?: number;
}

/** An ioctl on `/dev/mshv`, a partition or a VP failed. */
export class MshvError extends BackendError {
  override readonly name = 'MshvError';
  /** HV_STATUS of a failed hypercall; undefined for other ioctls. */
  readonly hvStatus?: number;

  /**
   * @param ioctl - the request's name (`'MSHV_CREATE_PARTITION'`), or `'open'`
   * @param errno - the positive errno (0 when the kernel succeeded but the result was refused)
   * @param code - errno's name (`'ENOTTY'`)
   * @param detail - what went wrong, in words
   */
  constructor(
    readonly ioctl: string,
    readonly errno: number,
    readonly code: string,
    detail: string,
    options: MshvErrorOptions = {},
  ) {
    super('mshv', ioctl, detail, options);
    if (options.hvStatus !== undefined) this.hvStatus = options.hvStatus;
  }
}

/**
 * Turns what a surface call threw into an {@link MshvError} for `ioctl`: a
 * Node-style system error (`errno` negative or positive, `code`) keeps its
 * errno; anything else (already an MshvError, a TypeError of a bug) passes
 * through. `context` (e.g. the hypercall) starts the detail.
 */
export function asMshvError(ioctl: string, error: unknown, hvStatus?: number, context?: string): unknown {
  if (error instanceof MshvError || !(error instanceof Error)) return error;
  const system = error as Error & { errno?: unknown; code?: unknown };
  if (typeof system.errno !== 'number' || typeof system.code !== 'string') return error;
  const errno = Math.abs(system.errno);
  const status = hvStatus === undefined || hvStatus === HV_STATUS.SUCCESS ? '' : `, hypervisor status ${hvStatusName(hvStatus)}`;
  const prefix = context === undefined ? '' : `${context}: `;
  return new MshvError(ioctl, errno, system.code, `${prefix}${system.code} (${errnoText(errno)})${status}`, {
    cause: error,
    ...(hvStatus === undefined || hvStatus === HV_STATUS.SUCCESS ? {} : { hvStatus }),
  });
}

/** `HV_STATUS_INVALID_PARAMETER (0x5)`, or the hex value for a status without a name here. */
export function hvStatusName(status: number): string {
  const name = Object.entries(HV_STATUS).find(([, value]) => value === status)?.[0];
  const hex = `0x${status.toString(16)}`;
  return name === undefined ? hex : `HV_STATUS_${name} (${hex})`;
}

/** The errno's name for an errno number, or `errno N`. */
export function errnoName(errno: number): string {
  return Object.entries(osConstants.errno).find(([, value]) => value === errno)?.[0] ?? `errno ${errno}`;
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTTY: 'inappropriate ioctl for device',
  EINVAL: 'invalid argument',
  EAGAIN: 'try again',
  EINTR: 'interrupted',
  ENOMEM: 'out of memory',
  EFAULT: 'bad address',
  EBADF: 'bad file descriptor',
  EBUSY: 'busy',
  EEXIST: 'exists',
  ENODEV: 'no such device',
  ENXIO: 'no such device or address',
  EIO: 'input/output error',
};

function errnoText(errno: number): string {
  return ERRNO_TEXT[errnoName(errno)] ?? `errno ${errno}`;
}
