/**
 * The one error type every backend throws when its hypervisor refuses
 * something. Each backend subclasses it with what its own API reports (KVM and
 * MSHV: an errno and the ioctl; WHP: an HRESULT and the function). Core never
 * looks inside: it wraps the error in `HypervisorError`, keeping it as `cause`.
 */
import type { BackendName } from './backend.js';

/** A hypervisor refused an operation of a backend. */
export class BackendError extends Error {
  override readonly name: string = 'BackendError';
  /**
   * @param backend - the backend that failed
   * @param operation - what it asked of the hypervisor (an ioctl, a function)
   * @param detail - what the hypervisor answered, in words
   */
  constructor(readonly backend: BackendName, readonly operation: string, readonly detail: string, options?: ErrorOptions) {
    super(`${backend}: ${operation} failed: ${detail}`, options);
  }
}
