/**
 * The MSHV backend: `/dev/mshv`, the Microsoft Hypervisor's root-partition
 * driver in mainline Linux (6.15+) and Azure Linux. `createBackend` builds it
 * over any {@link MshvSurface}; `backend` uses the native addon.
 *
 * createVm, as upstream Hyperlight does it: CREATE_PARTITION (no flags, no
 * isolation) → SYNTHETIC_PROC_FEATURES = 0 (no enlightenments) →
 * INITIALIZE_PARTITION → CREATE_VP(0) → map main memory → power-on FPU state →
 * XCR0.
 */
import { isMainThread } from 'node:worker_threads';
import type {
  Backend, BackendStatus, BackendUnavailableReason, CancelReason, CancelToken, MemorySnapshot, SnapshotFile,
  VirtualMachine, VmOptions,
} from '@hyperlight-ts/core/backend';
import { cancelReasonCode } from '@hyperlight-ts/core/backend';
import { GuestMapping } from './guest-mapping.js';
import { u64Value } from './hv-registers.js';
import { getPartitionProperty, setPartitionProperty, setVpRegisters } from './hvcall.js';
import { loadNative } from './load-native.js';
import { CREATE_PARTITION, CREATE_VP, HV_PARTITION_PROPERTY, HV_REGISTER, MSHV_IOCTL, PAGE_SIZE } from './mshv-abi.js';
import { asMshvError } from './mshv-error.js';
import type { MshvDevice, MshvPartition, MshvSurface, SnapshotMemory } from './mshv-ioctls.js';
import { MshvVirtualMachine, VP_INDEX } from './mshv-virtual-machine.js';
import { powerOnXsave, setVpXsaveState, vpXsaveState } from './vp-state.js';

/** The device `check()` and `createVm()` open. */
export const MSHV_DEVICE_PATH = '/dev/mshv';

/** XCR0 values tried in order: x87|SSE|AVX, then x87|SSE. */
const XCR0_CHOICES = [0x7n, 0x3n] as const;

/**
 * The MSHV backend over `surface()` (called on first use; it may throw, which
 * `check()` reports as `load-failed`).
 */
export function createBackend(surface: () => MshvSurface): Backend {
  return {
    name: 'mshv',
    check: () => check(surface),
    createVm: (options) => createVm(surface(), options),
    mapSnapshotFile: (file, offset, size) => mapSnapshotFile(surface(), file, offset, size),
    cancelCall: (token, reason) => cancelCall(surface, token, reason),
  };
}

/**
 * The MSHV backend. Core discovers it by loading this package and reading `backend`.
 * @example
 * import { backend } from '@hyperlight-ts/backend-mshv';
 * console.log(backend.check()); // { usable: false, reason: 'device-missing', ... } off a Hyper-V root partition
 */
export const backend: Backend = createBackend(loadNative);

function check(surface: () => MshvSurface): BackendStatus {
  let native: MshvSurface;
  try {
    native = surface();
  } catch (error) {
    return unusable('load-failed', messageOf(error));
  }
  let device: MshvDevice;
  try {
    device = native.openDevice(MSHV_DEVICE_PATH);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'EACCES' || code === 'EPERM') {
      return unusable('permission-denied', `${MSHV_DEVICE_PATH} cannot be opened (${code}): the driver creates it mode 0600; run as root or grant this user access (e.g. a udev rule)`);
    }
    if (code === 'ENOENT') {
      return unusable('device-missing', `${MSHV_DEVICE_PATH} does not exist: this Linux is not a Microsoft Hypervisor root partition with the mshv_root driver (mainline 6.15+ or Azure Linux)`);
    }
    return unusable('device-missing', `${MSHV_DEVICE_PATH} cannot be opened: ${messageOf(error)}`);
  }
  try {
    device.createPartition(new Uint8Array(CREATE_PARTITION.size)).dispose();
    return { usable: true, detail: `${MSHV_DEVICE_PATH}: in-kernel MSHV ABI, a partition can be created` };
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOTTY' || code === 'EINVAL') {
      return unusable('api-mismatch', `${MSHV_DEVICE_PATH} refuses MSHV_CREATE_PARTITION (${code}): an old out-of-tree driver with another ABI; this backend needs the in-kernel one (Linux 6.15+ or Azure Linux)`);
    }
    if (code === 'EACCES' || code === 'EPERM') return unusable('permission-denied', `MSHV_CREATE_PARTITION refused (${code})`);
    return unusable('device-missing', `${MSHV_DEVICE_PATH} cannot create a partition: ${messageOf(error)}`);
  } finally {
    device.dispose();
  }
}

function createVm(surface: MshvSurface, options: VmOptions): VirtualMachine {
  const memorySize = validMemorySize(options?.memorySize);
  const snapshot = options.memory === undefined ? undefined : ownSnapshot(surface, options.memory, memorySize);
  const owned: Disposable[] = [];
  try {
    const partition = createPartition(surface);
    owned.push(partition);
    setPartitionProperty(partition, HV_PARTITION_PROPERTY.SYNTHETIC_PROC_FEATURES, 0n);
    ioctl(partition, 'MSHV_INITIALIZE_PARTITION');
    const vpArg = new Uint8Array(CREATE_VP.size);
    new DataView(vpArg.buffer).setUint32(CREATE_VP.vpIndex, VP_INDEX, true);
    const vp = call('MSHV_CREATE_VP', () => partition.createVp(vpArg, { workerThread: !isMainThread }));
    owned.unshift(vp);
    const memory = surface.createGuestMemory(memorySize, snapshot);
    owned.push(memory);
    const main = new GuestMapping(partition, memory, 0n, false);
    main.map();
    setVpXsaveState(vp, powerOnXsave(vpXsaveState(vp)));
    const xsaveEnabled = XCR0_CHOICES.some((xcr0) => trySetXcr0(vp, xcr0));
    return new MshvVirtualMachine({ surface, partition, vp, main, xsaveEnabled, tscFrequencyHz: tscFrequencyHz(partition) });
  } catch (error) {
    for (const resource of owned) resource[Symbol.dispose]();
    throw error;
  }
}

function createPartition(surface: MshvSurface): MshvPartition {
  const device = call('open', () => surface.openDevice(MSHV_DEVICE_PATH));
  try {
    return call('MSHV_CREATE_PARTITION', () => device.createPartition(new Uint8Array(CREATE_PARTITION.size)));
  } finally {
    device.dispose();
  }
}

function trySetXcr0(vp: Parameters<typeof setVpRegisters>[0], xcr0: bigint): boolean {
  try {
    setVpRegisters(vp, VP_INDEX, [{ name: HV_REGISTER.XFEM, value: u64Value(xcr0, 'xcr0') }]);
    return true;
  } catch {
    return false; // this CPU (or hypervisor) refuses the value; the next choice, or no XSAVE
  }
}

function tscFrequencyHz(partition: MshvPartition): number | undefined {
  try {
    const hz = Number(getPartitionProperty(partition, HV_PARTITION_PROPERTY.PROCESSOR_CLOCK_FREQUENCY));
    return hz > 0 ? hz : undefined;
  } catch {
    return undefined; // the partition does not answer it: unknown, which undefined says
  }
}

function mapSnapshotFile(surface: MshvSurface, file: SnapshotFile, offset: number, size: number): MemorySnapshot {
  try {
    return surface.mapSnapshotFile(file.fd, offset, size);
  } catch (error) {
    const syscall = (error as { syscall?: unknown }).syscall;
    throw asMshvError(typeof syscall === 'string' ? syscall : 'mmap', error, undefined, file.path);
  }
}

function cancelCall(surface: () => MshvSurface, token: CancelToken, reason: CancelReason): boolean {
  const code = cancelReasonCode(reason);
  const id = (token as Partial<CancelToken> | null | undefined)?.id;
  if (token?.backend !== 'mshv' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return false;
  let native: MshvSurface;
  try {
    native = surface();
  } catch {
    return false; // no addon, so no VM of this backend exists in this process
  }
  return native.cancelCall(id, code);
}

function ownSnapshot(surface: MshvSurface, memory: MemorySnapshot, memorySize: number): SnapshotMemory {
  if (!surface.isSnapshot(memory)) {
    const error = new TypeError('memory must be a MemorySnapshot of the mshv backend (from snapshotMemory() or mapSnapshotFile())');
    throw Object.assign(error, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  if (memory.size !== memorySize) {
    throw Object.assign(new RangeError(`memory holds ${memory.size} bytes but memorySize is ${memorySize}`), { code: 'ERR_OUT_OF_RANGE' });
  }
  return memory;
}

function validMemorySize(memorySize: unknown): number {
  if (typeof memorySize !== 'number' || !Number.isSafeInteger(memorySize) || memorySize <= 0 || memorySize % PAGE_SIZE !== 0) {
    const error = new RangeError(`memorySize must be a positive multiple of ${PAGE_SIZE} bytes; got ${String(memorySize)}`);
    throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
  }
  return memorySize;
}

function ioctl(fd: MshvPartition, name: keyof typeof MSHV_IOCTL): void {
  call(name, () => fd.ioctl(MSHV_IOCTL[name]));
}

/** `action()`, with a system error turned into an MshvError naming `name`. */
function call<T>(name: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw asMshvError(name, error);
  }
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

function unusable(reason: BackendUnavailableReason, detail: string): BackendStatus {
  return { usable: false, reason, detail };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
