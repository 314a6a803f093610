/**
 * The sandbox before its guest runs: configure it, register host functions,
 * then `evolve()` it into a {@link MultiUseSandbox}.
 *
 *   Uninitialized --evolve()--> Evolved (this object is spent; use the result)
 */
import type { Backend } from '../backend/backend.js';
import { discoverBackend } from '../backend/discover.js';
import { SandboxStateError } from '../errors.js';
import { MemoryLayout, type MemoryLayoutOptions } from '../mem/layout.js';
import { normalizeLayoutOptions, type SandboxOrigin } from '../snapshot/snapshot-compatibility.js';
import type { ParameterTypeName, ValueTypeName } from '../protocol/values.js';
import { resolveConfiguration, type ResolvedConfiguration, type SandboxConfiguration } from './config.js';
import { sha256Hex, type GuestBinary } from './guest-binary.js';
import { GuestVm, hypervisorCall } from './guest-vm.js';
import { HostFunctionRegistry, type FunctionSignature, type HostFunction } from './host-functions.js';
import { MultiUseSandbox } from './multi-use-sandbox.js';

/** A guest binary plus configuration and host functions, not yet running. */
export class UninitializedSandbox {
  private readonly hostFunctions = new HostFunctionRegistry();
  private evolved = false;

  private constructor(
    private readonly binary: GuestBinary,
    private readonly config: ResolvedConfiguration,
    private readonly layoutOptions: MemoryLayoutOptions,
    private readonly layout: MemoryLayout,
    private readonly backend: Backend,
  ) {}

  /**
   * Checks the configuration, lays out guest memory and picks a backend.
   * No VM exists until {@link evolve}.
   * @throws ConfigurationError for an invalid option, or when the guest would
   *   need more memory than `maxMemorySize` (its image included).
   * @throws BackendUnavailableError when no hypervisor backend is usable.
   * @example
   * const u = UninitializedSandbox.create(GuestBinary.fromFile('guest.elf'), { heapSize: 4 << 20 });
   */
  static create(binary: GuestBinary, config: SandboxConfiguration = {}): UninitializedSandbox {
    const resolved = resolveConfiguration(config);
    const layoutOptions: MemoryLayoutOptions = {
      imageSize: binary.image.imageSize,
      imageSegments: binary.image.segments,
      inputSize: resolved.inputSize,
      outputSize: resolved.outputSize,
      logSize: resolved.logSize,
      traceSize: resolved.traceSize,
      heapSize: resolved.heapSize,
      stackSize: resolved.stackSize,
      initDataSize: resolved.initData.length,
    };
    const layout = MemoryLayout.compute(layoutOptions, { bytes: resolved.maxMemorySize, option: 'maxMemorySize' });
    const backend = discoverBackend({ choice: resolved.backend });
    return new UninitializedSandbox(binary, resolved, normalizeLayoutOptions(layoutOptions), layout, backend);
  }

  /**
   * Registers a host function the guest can call by `name`. Arguments the
   * guest passes and the value returned are checked against `signature`.
   * @throws InvalidHostFunctionError for a bad name or signature, or a duplicate.
   * @throws SandboxStateError after {@link evolve}.
   * @example
   * u.register('Add', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b);
   */
  register<const P extends readonly ParameterTypeName[], const R extends ValueTypeName>(
    name: string,
    signature: FunctionSignature<P, R>,
    fn: HostFunction<P, R>,
  ): this {
    this.assertNotEvolved('register a host function');
    this.hostFunctions.register(name, signature, fn);
    return this;
  }

  /**
   * Creates the VM, loads the guest and runs its initialisation on this
   * thread. This object is spent afterwards, whether or not it succeeded.
   * @throws SandboxStateError if called twice.
   * @throws HypervisorError when the backend fails to create or run the VM.
   * @throws GuestAbortedError, GuestPanicError, GuestExceptionError, GuestProtocolError (and the
   *   other guest errors) when guest initialisation fails.
   * @throws GuestTimeoutError when initialisation runs longer than the `timeoutMs` option.
   * @throws HostCallbackError when the `print` function, the `logger` or the `tracing` collector
   *   threw during initialisation (or its `open` threw).
   * @throws ConfigurationError when the `tracing` session's run settings do not fit the trace area.
   */
  evolve(): MultiUseSandbox {
    const sandbox = this.load();
    try {
      sandbox.initialize();
      return sandbox;
    } catch (error) {
      disposeAfterFailure(sandbox);
      throw error;
    }
  }

  /**
   * {@link evolve} with the guest's initialisation on a backend thread, so the
   * event loop keeps running meanwhile (VM creation itself is synchronous).
   * @returns a promise that rejects with the errors {@link evolve} throws.
   */
  async evolveAsync(): Promise<MultiUseSandbox> {
    const sandbox = this.load();
    try {
      await sandbox.initializeAsync();
      return sandbox;
    } catch (error) {
      disposeAfterFailure(sandbox);
      throw error;
    }
  }

  /** Creates the VM and loads the guest; spends this object. */
  private load(): MultiUseSandbox {
    this.assertNotEvolved('evolve');
    this.evolved = true;
    const vm = hypervisorCall('create the VM', () => this.backend.createVm({ memorySize: this.layout.totalSize }));
    try {
      const guest = GuestVm.load(vm, this.layout, this.binary.image, this.binary.bytes, this.config);
      return new MultiUseSandbox(guest, this.hostFunctions, this.config, this.origin(), this.backend);
    } catch (error) {
      vm.dispose();
      throw error;
    }
  }

  /** What a snapshot of the evolved sandbox records about where it came from. */
  private origin(): SandboxOrigin {
    const { binary, config, layoutOptions } = this;
    return {
      // Hashes cost a little; only snapshots need them.
      get binaryDigest() {
        return binary.digest;
      },
      layout: layoutOptions,
      entryOffset: binary.image.entryOffset,
      linkBase: binary.image.vaddrBase,
      maxLogLevel: config.maxLogLevel,
      get initDataDigest() {
        return sha256Hex(config.initData);
      },
    };
  }

  private assertNotEvolved(action: string): void {
    if (this.evolved) {
      throw new SandboxStateError(`cannot ${action}: this UninitializedSandbox was already evolved; use the MultiUseSandbox that evolve() returned`);
    }
  }
}

/** Disposes a sandbox whose initialisation failed; that failure is the one to report, not a trace session's `close`. */
function disposeAfterFailure(sandbox: MultiUseSandbox): void {
  try {
    sandbox.dispose();
  } catch {
    // Only a throwing trace session close() gets here; the VM is released regardless.
  }
}
