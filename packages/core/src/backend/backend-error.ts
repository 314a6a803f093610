/**
 * The one error type every backend throws when its hypervisor refuses
 * something. Each backend subclasses it with what its own API reports (KVM and
 * MSHV: an errno and the ioctl; WHP: an HRESULT and the function). Core never
 * looks inside: it wraps the error in `HypervisorError`, keeping it as `cause`.
 */
import type { BackendName } from './backend.js';

/**
 * Marks every BackendError, whichever copy of core made it: backends are
 * loaded with `require`, so their errors come from core's CommonJS build even
 * when the application imported the ES module build.
 */
const BRAND = Symbol.for('@hyperlight-ts/core.BackendError');

/** A hypervisor refused an operation of a backend. */
export class BackendError extends Error {
  override readonly name: string = 'BackendError';
  /**
   * `instanceof BackendError` holds for errors of either build of core;
   * subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== BackendError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  /**
   * @param backend - the backend that failed
   * @param operation - what it asked of the hypervisor (an ioctl, a function)
   * @param detail - what the hypervisor answered, in words
   */
  constructor(readonly backend: BackendName, readonly operation: string, readonly detail: string, options?: ErrorOptions) {
    super(`${backend}: ${operation} failed: ${detail}`, options);
  }

  /** The brand {@link BackendError}'s `instanceof` checks. */
  get [BRAND](): true {
    return true;
  }
}
