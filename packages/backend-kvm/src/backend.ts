/**
 * The KVM implementation of core's `Backend` interface. Core loads this
 * package at run time and never imports it statically; this package in turn
 * uses only core's types, so the two never form a runtime cycle.
 */
import { constants as bufferConstants } from 'node:buffer';
import { isMainThread } from 'node:worker_threads';
import type {
  Backend, BackendStatus, BackendUnavailableReason, CancelReason, CancelToken, MemorySnapshot, SnapshotFile, VirtualMachine, VmOptions,
} from '@hyperlight-ts/core';
import { cancelReasonCode } from '@hyperlight-ts/core/backend';
import { guestCpuid } from './guest-cpuid.js';
import { KVM } from './kvm-constants.js';
import { asKvmError, kvmCall } from './kvm-error.js';
import { kvmSnapshot } from './kvm-snapshot.js';
import { KvmVirtualMachine } from './kvm-virtual-machine.js';
import { loadNative } from './load-native.js';
import type { CpuidEntry, Kvm, NativeAddon, VcpuFd, VmFd } from './native.js';

/** The device every KVM VM is created through. */
export const KVM_DEVICE_PATH = '/dev/kvm';

const PAGE_SIZE = 4096;
/** CPUID leaf 1 ECX bit 26: the guest may use XSAVE and set CR4.OSXSAVE. */
const CPUID_1_ECX_XSAVE = 1 << 26;
/** CPUID leaf 0xD sub-leaf 0: EDX:EAX = the XCR0 bits the CPU supports. */
const CPUID_LEAF_XSTATE = 0xd;
/** XCR0 bits that must be set together for XSAVE to be worth enabling: x87 | SSE. */
const XCR0_REQUIRED = 0x3n;
/**
 * XCR0 bits this backend enables when supported: x87, SSE, AVX, and the three
 * AVX-512 components (opmask, ZMM_Hi256, Hi16_ZMM). Left out: MPX (deprecated,
 * needs paired bits), PKRU (useless without CR4.PKE) and AMX (needs a
 * per-process permission, arch_prctl(ARCH_REQ_XCOMP_GUEST_PERM)).
 */
const XCR0_ENABLED = 0xe7n;

/** What every VM needs from `/dev/kvm`, read once per process. */
interface KvmHost {
  readonly addon: NativeAddon;
  readonly kvm: Kvm;
  readonly supportedCpuid: readonly CpuidEntry[];
  /** What every vCPU's `cpuid` answers: {@link guestCpuid} of `supportedCpuid`. */
  readonly vcpuCpuid: readonly CpuidEntry[];
  readonly hasXcrs: boolean;
}

let host: KvmHost | undefined;

/**
 * Opens `/dev/kvm` once and keeps it open for the life of the process (one fd;
 * it belongs to no VM). VM creation then costs no open() and no CPUID query.
 */
function kvmHost(): KvmHost {
  if (host !== undefined) return host;
  const addon = loadNative();
  const kvm = new addon.Kvm(KVM_DEVICE_PATH);
  try {
    const problem = apiProblem(kvm);
    if (problem !== undefined) {
      throw Object.assign(new Error(`KVM at ${KVM_DEVICE_PATH} cannot be used: ${problem}`), {
        code: 'ERR_HYPERLIGHT_KVM_API_MISMATCH',
      });
    }
    const supportedCpuid = kvm.getSupportedCpuid();
    host = {
      addon,
      kvm,
      supportedCpuid,
      vcpuCpuid: guestCpuid(supportedCpuid),
      hasXcrs: kvm.checkExtension(KVM.KVM_CAP_XCRS) > 0,
    };
    return host;
  } catch (error) {
    kvm.dispose();
    throw error;
  }
}

/** Why this kernel's KVM lacks what the backend relies on, or undefined when it has it. */
function apiProblem(kvm: Kvm): string | undefined {
  const version = kvm.getApiVersion();
  if (version !== KVM.KVM_API_VERSION) return `KVM API version ${version}, need ${KVM.KVM_API_VERSION}`;
  // Registers travel through kvm_run (sync_regs) so a guest entry is one ioctl;
  // immediate_exit is how a run gets cancelled from another thread.
  if ((kvm.checkExtension(KVM.KVM_CAP_SYNC_REGS) & KVM.KVM_SYNC_X86_REGS) === 0) {
    return 'KVM_CAP_SYNC_REGS is missing (Linux 4.16 or later is needed)';
  }
  if (kvm.checkExtension(KVM.KVM_CAP_IMMEDIATE_EXIT) <= 0) {
    return 'KVM_CAP_IMMEDIATE_EXIT is missing (Linux 4.12 or later is needed)';
  }
  return undefined;
}

/** Inputs of {@link checkKvm}; every field defaults to this process and machine. */
export interface CheckKvmOptions {
  devicePath?: string;
  platform?: string;
  arch?: string;
  /** Loads the addon; throws when it cannot. */
  load?: () => NativeAddon;
}

/**
 * Checks whether KVM can be used, with every input replaceable (for tests).
 * Never throws.
 */
export function checkKvm(options: CheckKvmOptions = {}): BackendStatus {
  const devicePath = options.devicePath ?? KVM_DEVICE_PATH;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  try {
    if (platform !== 'linux' || arch !== 'x64') {
      return unusable('unsupported-platform', `KVM needs Linux on x86-64; this is ${platform}/${arch}`);
    }
    let addon: NativeAddon;
    try {
      addon = (options.load ?? loadNative)();
    } catch (error) {
      return unusable('load-failed', messageOf(error));
    }
    let kvm: Kvm;
    try {
      kvm = new addon.Kvm(devicePath);
    } catch (error) {
      return openFailure(devicePath, error);
    }
    try {
      const problem = apiProblem(kvm);
      if (problem !== undefined) return unusable('api-mismatch', `${devicePath}: ${problem}`);
      return { usable: true, detail: `KVM API ${KVM.KVM_API_VERSION} on ${devicePath}` };
    } catch (error) {
      // The device opened but does not answer KVM ioctls (e.g. not a KVM device).
      return unusable('api-mismatch', `${devicePath}: ${messageOf(error)}`);
    } finally {
      kvm.dispose();
    }
  } catch (error) {
    return unusable('load-failed', `unexpected failure while checking KVM: ${messageOf(error)}`);
  }
}

/** Maps a failed open() of the device to a reason that says what to do. */
export function openFailure(devicePath: string, error: unknown): BackendStatus {
  const code = (error as { code?: unknown } | null)?.code;
  const cause = messageOf(error);
  switch (code) {
    case 'ENOENT':
      return unusable(
        'device-missing',
        `${devicePath} does not exist: load the kvm_intel or kvm_amd module and enable hardware virtualization ` +
          `(nested virtualization inside a VM) (${cause})`,
      );
    case 'ENXIO':
    case 'ENODEV':
      return unusable('device-missing', `${devicePath} has no KVM driver behind it (${cause})`);
    case 'EACCES':
    case 'EPERM':
      return unusable(
        'permission-denied',
        `${devicePath} must be readable and writable by this user (uid ${process.getuid?.() ?? '?'}): ` +
          `add the user to the group that owns it, usually "kvm" (${cause})`,
      );
    default:
      return unusable('device-missing', `cannot open ${devicePath}: ${cause}`);
  }
}

/**
 * Creates a VM with `options.memorySize` bytes of memory at guest-physical 0
 * (zeroed, or `options.memory` mapped copy-on-write), one vCPU with the minimal
 * CPUID of {@link guestCpuid} (no host identity), XSAVE enabled when KVM allows
 * it, and the x87/SSE state at power-on values.
 * @throws RangeError (`code: 'ERR_OUT_OF_RANGE'`) unless memorySize is a positive multiple of 4096
 *   equal to `options.memory.size`.
 * @throws TypeError (`code: 'ERR_INVALID_ARG_TYPE'`) when `options.memory` is not a snapshot of this backend.
 * @throws Error `ERR_HYPERLIGHT_NATIVE_LOAD` when the addon cannot be loaded, and
 *   `ERR_HYPERLIGHT_KVM_API_MISMATCH` when KVM lacks a needed capability.
 * @throws KvmError when KVM refuses; core wraps it in its HypervisorError.
 */
function createVm(options: VmOptions): VirtualMachine {
  const memorySize = validMemorySize(options?.memorySize);
  // Arguments first: a wrong snapshot is the caller's error even where KVM is missing.
  const snapshot = options.memory === undefined ? undefined : kvmSnapshot(loadNative(), options.memory, memorySize, 'memory');
  const { addon, kvm, supportedCpuid, vcpuCpuid, hasXcrs } = kvmCall(kvmHost);
  const memory = kvmCall(() => new addon.GuestMemory(memorySize, snapshot));
  let vm: VmFd | undefined;
  let vcpu: VcpuFd | undefined;
  try {
    vm = kvm.createVm();
    vm.setUserMemoryRegion({ slot: 0, baseGpa: 0, memory });
    // On a worker, the addon's watchdog interrupts long runs now and then so
    // that worker.terminate() can take effect (see native-linux's watchdog.h).
    vcpu = vm.createVcpu(0, { workerThread: !isMainThread });
    // Without a CPUID table the guest's `cpuid` answers zeros.
    vcpu.setCpuid2(vcpuCpuid);
    const xsaveEnabled = hasXcrs && enableXsave(vcpu, vcpuCpuid);
    // The interface promises power-on x87/SSE state (FCW 0x37F, MXCSR 0x1F80), whatever KVM starts with.
    vcpu.resetFpu();
    return new KvmVirtualMachine({ addon, memory, vm, vcpu, xsaveEnabled, availableTss: isAmd(supportedCpuid) });
  } catch (error) {
    vcpu?.dispose();
    vm?.dispose();
    memory.dispose();
    throw asKvmError(error);
  }
}

/** CPUID leaf 0 vendor strings of CPUs that implement AMD SVM. */
const SVM_VENDORS = new Set(['AuthenticAMD', 'HygonGenuine']);

/**
 * Whether the host CPU is AMD-compatible, so TR is loaded as an available TSS
 * (see `KvmVirtualMachineParts.availableTss`).
 */
function isAmd(supportedCpuid: readonly CpuidEntry[]): boolean {
  const leaf0 = supportedCpuid.find((entry) => entry.function === 0 && entry.index === 0);
  if (leaf0 === undefined) return false;
  const vendor = Buffer.alloc(12);
  vendor.writeUInt32LE(leaf0.ebx >>> 0, 0);
  vendor.writeUInt32LE(leaf0.edx >>> 0, 4);
  vendor.writeUInt32LE(leaf0.ecx >>> 0, 8);
  return SVM_VENDORS.has(vendor.toString('latin1'));
}

/**
 * Sets XCR0 to the subset of {@link XCR0_ENABLED} that `cpuid` (the vCPU's
 * table) lists in leaf 0xD, and reports
 * whether the guest may now set CR4.OSXSAVE: that needs XSAVE in the CPUID
 * KVM actually stored for the vCPU (read back, because some KVMs, e.g. kvm_pvm,
 * report XSAVE as unsupported yet store and honour it) and an accepted XCR0.
 */
function enableXsave(vcpu: VcpuFd, cpuid: readonly CpuidEntry[]): boolean {
  const xstate = cpuid.find((entry) => entry.function === CPUID_LEAF_XSTATE && entry.index === 0);
  if (xstate === undefined) return false;
  const xcr0 = ((BigInt(xstate.edx) << 32n) | BigInt(xstate.eax)) & XCR0_ENABLED;
  if ((xcr0 & XCR0_REQUIRED) !== XCR0_REQUIRED) return false;
  const leaf1 = vcpu.getCpuid2().find((entry) => entry.function === 1);
  if (leaf1 === undefined || (leaf1.ecx & CPUID_1_ECX_XSAVE) === 0) return false;
  try {
    vcpu.setXcrs([{ xcr: 0, value: xcr0 }]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps `size` bytes of the open regular file `file.fd` from byte `offset` as a
 * snapshot, without copying. Needs no `/dev/kvm`. The backend opens the file
 * again for itself, so the caller may close `fd` at once; the file must not
 * change while the snapshot or a VM made from it exists.
 * @throws RangeError (`code: 'ERR_OUT_OF_RANGE'`) for an offset or size that is not a
 *   multiple of 4096, a zero size, or a window outside the file; TypeError for non-numbers.
 * @throws KvmError (`fstat` EBADF, `mmap` ENODEV/EACCES) when the file cannot be mapped;
 *   Error `ERR_HYPERLIGHT_NATIVE_LOAD` when the addon cannot be loaded.
 */
function mapSnapshotFile(file: SnapshotFile, offset: number, size: number): MemorySnapshot {
  return kvmCall(() => loadNative().mapSnapshotFile(file?.fd, offset, size));
}

/**
 * Cancels the open call of the VM `token` names (its `callGuard.token`), from
 * any thread of this process: the addon and its registry of VMs are shared by
 * every worker that loads this package. The first reason wins.
 * @returns false when the VM is gone, no call is open, it was already
 *   cancelled, or the token is not one of this backend's.
 * @throws TypeError (`ERR_INVALID_ARG_TYPE`) for a reason that is not a CancelReason.
 */
function cancelCall(token: CancelToken, reason: CancelReason): boolean {
  const code = cancelReasonCode(reason);
  const id = (token as Partial<CancelToken> | null | undefined)?.id;
  if (token?.backend !== 'kvm' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return false;
  let addon: NativeAddon;
  try {
    addon = loadNative();
  } catch {
    return false; // no addon, so no VM of this backend exists in this process
  }
  return addon.cancelCall(id, code);
}

function validMemorySize(memorySize: unknown): number {
  if (
    typeof memorySize !== 'number' ||
    !Number.isSafeInteger(memorySize) ||
    memorySize <= 0 ||
    memorySize % PAGE_SIZE !== 0 ||
    memorySize > bufferConstants.MAX_LENGTH
  ) {
    const error = new RangeError(
      `memorySize must be a positive multiple of ${PAGE_SIZE} bytes, at most ${bufferConstants.MAX_LENGTH}; got ${String(memorySize)}`,
    );
    throw Object.assign(error, { code: 'ERR_OUT_OF_RANGE' });
  }
  return memorySize;
}

function unusable(reason: BackendUnavailableReason, detail: string): BackendStatus {
  return { usable: false, reason, detail };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The KVM backend. Core discovers it by loading this package and reading `backend`.
 * @example
 * import { backend } from '@hyperlight-ts/backend-kvm';
 * const status = backend.check();
 * if (status.usable) {
 *   using vm = backend.createVm({ memorySize: 0x10000 });
 *   new Uint8Array(vm.memory).set([0xf4], 0x1000); // hlt
 * }
 */
export const backend: Backend = {
  name: 'kvm',
  /** Whether KVM can create VMs here, and if not why; never throws. */
  check: () => checkKvm(),
  createVm,
  mapSnapshotFile,
  cancelCall,
};
