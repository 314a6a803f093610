/**
 * @hyperlight-ts/backend-whp — the Windows Hypervisor Platform backend of
 * hyperlight-ts, in TypeScript over WinHvPlatform.dll through koffi.
 *
 * `backend` implements core's `Backend` interface; core finds it at run time.
 * Everything below `WhpApi` (the DLL functions) is plain TypeScript, exported
 * for tests and tools.
 *
 * @example
 * import { backend } from '@hyperlight-ts/backend-whp';
 * console.log(backend.check());
 */
export { backend, createWhpBackend, type WhpBackendOptions, type WhpHost } from './backend.js';
export { WhpError } from './whp-error.js';
export type { PartitionHandle, WhpApi } from './whp-api.js';
export { WhpVirtualMachine } from './whp-virtual-machine.js';
export { DISPOSED_ERROR_CODE, RUN_PENDING_ERROR_CODE } from '@hyperlight-ts/core/backend';
export { decodeExitContext, type DecodedExit, type IoCompletion } from './exit-context.js';
