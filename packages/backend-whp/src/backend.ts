/**
 * The WHP implementation of core's `Backend` interface. Core loads this
 * package at run time by name. Off Windows it loads (and `check()` says
 * `unsupported-platform`) without touching koffi's native part.
 *
 * One VM per process: WHvMapGpaRange maps memory of one partition per
 * process (a second one fails with ERROR_VID_PARTITION_ALREADY_EXISTS), so
 * `createVm` refuses a second live VM in the process, on any thread, with a
 * BackendError that says so. Upstream Hyperlight lifts the limit with
 * surrogate processes and WHvMapGpaRange2; this package does not (yet).
 */
import { fstatSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import type {
  Backend, BackendStatus, CancelReason, CancelToken, MemorySnapshot, SnapshotFile, VirtualMachine, VmOptions,
} from '@hyperlight-ts/core/backend';
import { BackendError, CallStateGuard, cancelReasonCode } from '@hyperlight-ts/core/backend';
import { CancelRegistry, openRegistryMemory } from './cancel-registry.js';
import { DLL_MISSING_ERROR_CODE, loadKoffiBinding } from './koffi-binding.js';
import { WatchdogTimer } from './watchdog.js';
import { FP_REGISTERS, HRESULT, WHV_CAPABILITY, WHV_CAPABILITY_SIZE, WHV_MAP_GPA_RANGE as MAP, WHV_PARTITION_PROPERTY, WHV_REGISTER } from './whp-abi.js';
import type { WhpApi } from './whp-api.js';
import { cancelAndAnnounce, type CallTimer, WhpCallTarget } from './whp-call-target.js';
import { checkHresult, failed, hex32, WhpError } from './whp-error.js';
import { HostMemory } from './host-memory.js';
import { WhpSnapshot } from './whp-snapshot.js';
import { whpSnapshotOf, WhpVirtualMachine } from './whp-virtual-machine.js';

const PAGE_SIZE = 4096;
/** WHV_CAPABILITY_FEATURES bit 2: the hypervisor manages XSAVE state. */
const FEATURE_XSAVE = 1n << 2n;
/** XCR0 with x87 and SSE state: what core's guests need (AVX would need CPUID checks too). */
const XCR0_X87_SSE = 0x3n;
const ENABLE_FEATURE = 'enable the Windows Hypervisor Platform feature (Windows Features, or ' +
  '`Enable-WindowsOptionalFeature -Online -FeatureName HypervisorPlatform`) and restart';

/** What the backend needs on this thread, made once. */
export interface WhpHost {
  readonly api: WhpApi;
  readonly registry: CancelRegistry;
  readonly timer: CallTimer;
}

/** Inputs of {@link createWhpBackend}; every field defaults to this machine. */
export interface WhpBackendOptions {
  platform?: string;
  arch?: string;
  /** Binds the DLLs (default: koffi); the tests pass a recording stand-in. */
  loadApi?: () => WhpApi;
  /** The process-wide registry memory (default: the named section). */
  registryMemory?: (api: WhpApi) => ArrayBufferLike;
  /** Time limits (default: the watchdog worker). */
  timer?: CallTimer;
}

/**
 * A WHP backend over `options`' inputs (for tests; applications use {@link backend}).
 * @example
 * const whp = createWhpBackend({ platform: 'win32', loadApi: () => fakeApi });
 */
export function createWhpBackend(options: WhpBackendOptions = {}): Backend {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  let host: WhpHost | undefined;
  const hostOf = (): WhpHost => {
    if (host !== undefined) return host;
    if (platform !== 'win32' || arch !== 'x64') {
      throw new BackendError('whp', 'load', `the Windows Hypervisor Platform needs Windows on x86-64; this is ${platform}/${arch}`);
    }
    const api = (options.loadApi ?? loadKoffiBinding)();
    const memory = (options.registryMemory ?? openRegistryMemory)(api);
    const registry = new CancelRegistry(memory, (partition) => api.cancelRunVirtualProcessor(partition, 0));
    host = { api, registry, timer: options.timer ?? new WatchdogTimer() };
    return host;
  };

  const check = (): BackendStatus => {
    try {
      if (platform !== 'win32' || arch !== 'x64') {
        return { usable: false, reason: 'unsupported-platform', detail: `WHP needs Windows on x86-64; this is ${platform}/${arch}` };
      }
      let api: WhpApi;
      try {
        api = hostOf().api;
      } catch (error) {
        if ((error as { code?: unknown }).code === DLL_MISSING_ERROR_CODE) {
          return { usable: false, reason: 'device-missing', detail: `WinHvPlatform.dll is missing: ${ENABLE_FEATURE}` };
        }
        return { usable: false, reason: 'load-failed', detail: messageOf(error) };
      }
      const present = new Uint8Array(WHV_CAPABILITY_SIZE);
      const hresult = api.getCapability(WHV_CAPABILITY.hypervisorPresent, present);
      if (failed(hresult)) {
        return { usable: false, reason: 'device-missing', detail: `WHvGetCapability(HypervisorPresent) failed with HRESULT ${hex32(hresult)}: ${ENABLE_FEATURE}` };
      }
      if (new DataView(present.buffer).getUint32(0, true) === 0) {
        return { usable: false, reason: 'device-missing', detail: `no hypervisor is present: ${ENABLE_FEATURE}` };
      }
      return { usable: true, detail: 'Windows Hypervisor Platform (WinHvPlatform.dll)' };
    } catch (error) {
      return { usable: false, reason: 'load-failed', detail: `unexpected failure while checking WHP: ${messageOf(error)}` };
    }
  };

  const createVm = (vmOptions: VmOptions): VirtualMachine => {
    const memorySize = validMemorySize(vmOptions?.memorySize);
    const snapshot = vmOptions.memory === undefined ? undefined : whpSnapshotOf(vmOptions.memory, memorySize);
    const { api, registry, timer } = hostOf();
    if (registry.liveCount() > 0) {
      throw new BackendError('whp', 'createVm', 'another WHP VM is alive in this process: WHvMapGpaRange maps memory of one partition per process; dispose it first');
    }
    const handle = new BigUint64Array(1);
    checkHresult('WHvCreatePartition', api.createPartition(handle));
    const partition = handle[0]!;
    let memory: HostMemory | undefined;
    let guard: CallStateGuard | undefined;
    try {
      checkHresult('WHvSetPartitionProperty', api.setPartitionProperty(partition, WHV_PARTITION_PROPERTY.processorCount, Uint8Array.of(1, 0, 0, 0)), 'ProcessorCount');
      checkHresult('WHvSetupPartition', api.setupPartition(partition));
      checkHresult('WHvCreateVirtualProcessor', api.createVirtualProcessor(partition, 0));
      memory = HostMemory.allocate(api, memorySize);
      if (snapshot !== undefined) memory.bytes.set(snapshot.bytes);
      const mapped = api.mapGpaRange(partition, memory.address, 0n, memorySize, MAP.read | MAP.write | MAP.execute);
      if ((mapped >>> 0) === HRESULT.vidPartitionAlreadyExists) {
        throw new WhpError('WHvMapGpaRange', mapped, 'another partition of this process already maps memory (one WHP VM per process)');
      }
      checkHresult('WHvMapGpaRange', mapped);
      powerOnFpu(api, partition);
      const xsaveEnabled = enableXsave(api, partition);
      const slot = registry.claim(partition);
      guard = new CallStateGuard('whp', new WhpCallTarget(slot, registry, timer), slot.state);
      return new WhpVirtualMachine({ api, partition, memory, callGuard: guard, xsaveEnabled, tscFrequencyHz: tscFrequencyHz(api) });
    } catch (error) {
      guard?.release();
      api.deletePartition(partition);
      memory?.release();
      throw error;
    }
  };

  const mapSnapshotFile = (file: SnapshotFile, offset: number, size: number): MemorySnapshot => {
    const fileSize = fstatSync(file.fd).size;
    if (
      !Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || offset < 0 || size <= 0 ||
      offset % PAGE_SIZE !== 0 || size % PAGE_SIZE !== 0 || offset + size > fileSize
    ) {
      throw Object.assign(new RangeError(`mapSnapshotFile: offset ${offset} and size ${size} must be multiples of ${PAGE_SIZE} inside the ${fileSize}-byte file`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    return WhpSnapshot.mapFile(hostOf().api, file.path, offset, size);
  };

  const cancelCall = (token: CancelToken, reason: CancelReason): boolean => {
    const code = cancelReasonCode(reason);
    const id = (token as Partial<CancelToken> | null | undefined)?.id;
    if (token?.backend !== 'whp' || typeof id !== 'number') return false;
    let registry: CancelRegistry;
    try {
      registry = hostOf().registry;
    } catch {
      return false; // no WHP here, so no VM of this backend exists in this process
    }
    return cancelAndAnnounce(registry, id, code);
  };

  return { name: 'whp', check, createVm, mapSnapshotFile, cancelCall };
}

/** x87 and SSE control state as after FNINIT with MXCSR 0x1F80, whatever WHP starts with. */
function powerOnFpu(api: WhpApi, partition: bigint): void {
  const values = new Uint8Array(32);
  const view = new DataView(values.buffer);
  view.setUint16(FP_REGISTERS.fpControl, 0x37f, true);
  view.setUint32(16 + FP_REGISTERS.mxcsr, 0x1f80, true);
  const names = Uint32Array.of(WHV_REGISTER.fpControlStatus, WHV_REGISTER.xmmControlStatus);
  checkHresult('WHvSetVirtualProcessorRegisters', api.setVirtualProcessorRegisters(partition, 0, names, values), 'power-on FPU state');
}

/** Sets XCR0 to x87|SSE when WHP manages XSAVE state; reports whether the guest may set CR4.OSXSAVE. */
function enableXsave(api: WhpApi, partition: bigint): boolean {
  const features = new Uint8Array(WHV_CAPABILITY_SIZE);
  if (failed(api.getCapability(WHV_CAPABILITY.features, features))) return false;
  if ((new DataView(features.buffer).getBigUint64(0, true) & FEATURE_XSAVE) === 0n) return false;
  const values = new Uint8Array(16);
  new DataView(values.buffer).setBigUint64(0, XCR0_X87_SSE, true);
  return !failed(api.setVirtualProcessorRegisters(partition, 0, Uint32Array.of(WHV_REGISTER.xcr0), values));
}

/** The TSC frequency WHP reports (WHvCapabilityCodeProcessorClockFrequency), or undefined. */
function tscFrequencyHz(api: WhpApi): number | undefined {
  const answer = new Uint8Array(WHV_CAPABILITY_SIZE);
  if (failed(api.getCapability(WHV_CAPABILITY.processorClockFrequency, answer))) return undefined;
  const hz = Number(new DataView(answer.buffer).getBigUint64(0, true));
  return hz > 0 ? hz : undefined;
}

function validMemorySize(memorySize: unknown): number {
  if (
    typeof memorySize !== 'number' || !Number.isSafeInteger(memorySize) || memorySize <= 0 ||
    memorySize % PAGE_SIZE !== 0 || memorySize > bufferConstants.MAX_LENGTH
  ) {
    throw Object.assign(new RangeError(`memorySize must be a positive multiple of ${PAGE_SIZE} bytes; got ${String(memorySize)}`), {
      code: 'ERR_OUT_OF_RANGE',
    });
  }
  return memorySize;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The WHP backend. Core discovers it by loading this package and reading `backend`.
 * @example
 * import { backend } from '@hyperlight-ts/backend-whp';
 * console.log(backend.check()); // off Windows: { usable: false, reason: 'unsupported-platform', ... }
 */
export const backend: Backend = createWhpBackend();
