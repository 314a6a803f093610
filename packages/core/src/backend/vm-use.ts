/**
 * The two states in which a backend's `VirtualMachine` refuses to be used,
 * with one error each, shared by every backend:
 *
 *   idle --runAsync()--> pending (only callGuard and dispose) --promise settles--> idle
 *   idle | pending --dispose()--> disposed (every method throws)
 */

/** Error `code` of every use of a disposed VM or native object. */
export const DISPOSED_ERROR_CODE = 'ERR_HYPERLIGHT_DISPOSED';

/** Error `code` of every use of a VM (other than `callGuard` and `dispose`) while a `runAsync` is pending. */
export const RUN_PENDING_ERROR_CODE = 'ERR_HYPERLIGHT_RUN_PENDING';

/**
 * Throws unless the VM may be used for `method`.
 * @throws Error `ERR_HYPERLIGHT_DISPOSED` when `disposed`; Error
 *   `ERR_HYPERLIGHT_RUN_PENDING` when `runPending`.
 */
export function assertVmIdle(method: string, disposed: boolean, runPending: boolean): void {
  if (disposed) {
    throw Object.assign(new Error(`VirtualMachine.${method}: used after dispose()`), { code: DISPOSED_ERROR_CODE });
  }
  if (runPending) {
    throw Object.assign(new Error(`VirtualMachine.${method}: a runAsync() is pending; await it first`), { code: RUN_PENDING_ERROR_CODE });
  }
}
