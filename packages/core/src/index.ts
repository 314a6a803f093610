/**
 * @hyperlight-ts/core — run untrusted code in hypervisor-isolated micro VMs.
 *
 * @example
 * import { UninitializedSandbox, GuestBinary } from '@hyperlight-ts/core';
 * const u = UninitializedSandbox.create(GuestBinary.fromFile('guest.elf'));
 * u.register('GetWeekday', { params: [], returns: 'string' }, () => 'Monday');
 * using sandbox = u.evolve();
 * sandbox.call('SayHello', 'string', 'World'); // "Hello, World! Today is Monday."
 */
export * from './errors.js';
export { BackendError } from './backend/backend-error.js';
export type {
  Backend, BackendName, BackendStatus, BackendUnavailableReason, CallGuard, CancelReason, CancelToken, DescriptorTable, GuestRegion, MemoryAccess,
  MemorySnapshot, RegionOptions, Registers, Segment, SnapshotFile, SpecialRegisters, VirtualMachine, VmExit, VmOptions,
} from './backend/backend.js';
export {
  BACKEND_ENV_VAR, BACKEND_PACKAGES, checkHypervisor, discoverBackend, isHypervisorPresent,
  type DiscoveryOptions, type HypervisorAvailability, type PackageLoader,
} from './backend/discover.js';
export { DEFAULT_CONFIGURATION, DEFAULT_MAX_MEMORY_SIZE, MAX_TIMEOUT_MS, type PrintFunction, type SandboxConfiguration } from './sandbox/config.js';
export type { ClockName, GuestClock } from './sandbox/guest-clock.js';
export { GuestBinary } from './sandbox/guest-binary.js';
export { parseElf, readElfSymbols, type ElfImage, type ElfSymbol } from './mem/elf-loader.js';
export {
  hostFunction, type ArgumentsOf, type FunctionSignature, type HostFunction, type HostFunctionDefinition, type HostFunctionDefinitions,
} from './sandbox/host-functions.js';
export { InterruptHandle } from './sandbox/interrupt-handle.js';
export {
  MultiUseSandbox, type CallOptions, type CallScope, type GuestFunctionInfo, type SnapshotSandboxOptions,
} from './sandbox/multi-use-sandbox.js';
export { Snapshot, type SnapshotLoadOptions } from './snapshot/snapshot.js';
export { UninitializedSandbox } from './sandbox/uninitialized-sandbox.js';
export type { ParameterTypeName, TypedValue, ValueOf, ValueTypeName } from './protocol/values.js';
export { LogLevel, type LogRecord } from './protocol/codec.js';
export { consoleLogger, formatLogRecord, logLevelName, parseLogLevel, type GuestLogger, type LogLevelName } from './sandbox/logging.js';
export type {
  GuestTraceSession, GuestTracing, TraceFilterEntry, TraceRunInfo, TraceRunSettings, TraceSessionInfo,
} from './sandbox/guest-tracing.js';
