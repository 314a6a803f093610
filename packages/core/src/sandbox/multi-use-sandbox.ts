/**
 * An initialised sandbox whose guest state persists across calls.
 *
 *   Ready --call()/callAsync()--> Running --returns/throws--> Ready
 *   Running --fails with a poisoning error (incl. kill, timeout)--> Poisoned --restore(snapshot)--> Ready
 *   Ready --snapshot()--> Ready (and a Snapshot)
 *   Ready | Poisoned --dispose()--> Disposed; Running --dispose()--> (call cancelled) --> Disposed
 *
 * One guest run at a time: `callAsync()`s queue in order; `call()`,
 * `snapshot()` and `restore()` refuse while a call runs or is queued.
 */
import { Abi } from '../abi/generated.js';
import type { Backend } from '../backend/backend.js';
import {
  ConfigurationError, GuestCancelledError, GuestFunctionError, GuestFunctionNotFoundError, GuestProtocolError, GuestTimeoutError, HostCallbackError,
  HyperlightError, MessageTooLargeError, PoisonedSandboxError, POISONS, SandboxStateError, SnapshotMismatchError, WrongArgumentCountError,
  WrongArgumentTypeError, WrongReturnTypeError,
} from '../errors.js';
import { MemoryLayout } from '../mem/layout.js';
import { Snapshot } from '../snapshot/snapshot.js';
import {
  checkConfiguration, checkHostFunctions, checkOrigin, checkVm, normalizeLayoutOptions, type SandboxOrigin,
} from '../snapshot/snapshot-compatibility.js';
import type { SnapshotState } from '../snapshot/snapshot-state.js';
import type { EntryOperation } from '../arch/x86_64/entry-registers.js';
import { ErrorCode, type CallResult, type GuestFunctionSignature } from '../protocol/codec.js';
import { planCall, type CallPlan } from '../protocol/call-encoder.js';
import type { LogRecord } from '../protocol/log-area.js';
import { checkValue, describeValue, type ValueOf, type ValueTypeName } from '../protocol/values.js';
import { DEFAULT_CONFIGURATION, parseTimeoutMs, resolveConfiguration, type ResolvedConfiguration, type SandboxConfiguration } from './config.js';
import { decodeFunctionTable } from './function-table-cache.js';
import { SandboxClock } from './guest-clock.js';
import { sha256Hex } from './guest-binary.js';
import { GuestVm, hypervisorCall, RunCancelled, type ExitHandlers } from './guest-vm.js';
import { InterruptHandle } from './interrupt-handle.js';
import { describeThrown } from './safe-text.js';
import { HostFunctionRegistry, type HostFunctionDefinitions } from './host-functions.js';
import { TraceSessionGuard } from './trace-session-guard.js';
import { parseLogLevel } from './logging.js';

/** Options for {@link MultiUseSandbox.fromSnapshot}. */
export interface SnapshotSandboxOptions extends SandboxConfiguration {
  /**
   * Host functions by name (make each with `hostFunction()`). They must include
   * every host function the snapshot was taken with, with the same signature.
   */
  hostFunctions?: HostFunctionDefinitions;
}

/** Options for one guest call; see {@link MultiUseSandbox.with}. */
export interface CallOptions {
  /**
   * Longest the call may run, in milliseconds. With the sandbox's own
   * `timeoutMs` also set, the smaller one applies. Host-function time counts.
   */
  readonly timeoutMs?: number;
  /** Cancels the call when it aborts (`GuestCancelledError`, reason `'aborted'`). */
  readonly signal?: AbortSignal;
  /**
   * Where a `bytes` result goes. The call copies the guest's bytes into this
   * array and returns `into.subarray(0, length)` instead of a new array, which
   * spares allocating fresh memory on every call (for large results, the
   * biggest cost of the call). The returned view is good until the next call
   * that writes into the same array. Only for calls that return `bytes`; a
   * result longer than the array fails with `MessageTooLargeError` and leaves
   * the array as it was.
   */
  readonly into?: Uint8Array;
}

/** Calls with fixed {@link CallOptions}; made by {@link MultiUseSandbox.with}. */
export interface CallScope {
  /**
   * {@link MultiUseSandbox.call} with these options.
   * @throws as {@link MultiUseSandbox.call}; with `into`, also ConfigurationError (before the call
   *   enters the VM) when the call does not return `bytes`, and MessageTooLargeError (after the
   *   guest ran; no poison) when the result is longer than `into`.
   */
  call<R extends ValueTypeName>(name: string, returns: R, ...args: unknown[]): ValueOf<R>;
  /**
   * {@link MultiUseSandbox.callAsync} with these options.
   * @returns a promise that rejects as {@link call} throws.
   */
  callAsync<R extends ValueTypeName>(name: string, returns: R, ...args: unknown[]): Promise<ValueOf<R>>;
}

const NO_OPTIONS: CallOptions = Object.freeze({});

/** A guest function as the guest declared it at initialisation. */
export interface GuestFunctionInfo {
  readonly name: string;
  readonly params: readonly Exclude<ValueTypeName, 'void'>[];
  readonly returns: ValueTypeName;
}

/** A sandbox ready for guest calls. Create one with `UninitializedSandbox.evolve()`. */
export class MultiUseSandbox implements Disposable {
  private functions = new Map<string, GuestFunctionInfo>();
  /** Encoding templates of the functions called so far (call-encoder.ts). */
  private plans = new Map<string, CallPlan>();
  private poison: HyperlightError | undefined;
  private callbackFailure: HostCallbackError | undefined;
  private disposed = false;
  /** A guest run is in progress (sync or async). */
  private running = false;
  /** Depth of user callbacks (host functions, print, logger) running inside a guest run. */
  private inCallback = 0;
  /** `callAsync()` calls running or waiting in {@link queue}. */
  private asyncCalls = 0;
  /** Settles when the last queued `callAsync()` is done. */
  private queue: Promise<void> = Promise.resolve();
  private readonly exitHandlers: ExitHandlers;
  private readonly timeoutMs: number | undefined;
  /** The `tracing` option's session; undefined for an untraced sandbox. */
  private readonly trace: TraceSessionGuard | undefined;
  private readonly clock: SandboxClock;

  /**
   * @internal Use `UninitializedSandbox.evolve()` or {@link MultiUseSandbox.fromSnapshot}.
   * @throws HostCallbackError when the `tracing` option's `open` throws.
   */
  constructor(
    private readonly guest: GuestVm,
    private readonly hostFunctions: HostFunctionRegistry,
    config: ResolvedConfiguration,
    private readonly origin: SandboxOrigin,
    private readonly backend: Backend,
  ) {
    const { print, logger, maxLogLevel, tracing } = config;
    this.timeoutMs = config.timeoutMs;
    this.clock = new SandboxClock(config.clock);
    if (tracing) {
      const { layout } = guest;
      this.trace = TraceSessionGuard.open(tracing, {
        guestDigest: origin.binaryDigest,
        imageBase: layout.imageGpa,
        linkBase: Number(origin.linkBase),
        tscFrequencyHz: guest.tscFrequencyHz,
        traceAreaSize: layout.traceSize,
      });
      guest.enableTracing();
    }
    this.exitHandlers = {
      callHost: (call) => this.inUserCode(() => this.hostFunctions.reply(call)),
      // Only the host function's synchronous part runs inside; its Promise is awaited outside.
      callHostAsync: (call) => this.inUserCode(() => this.hostFunctions.replyAsync(call)),
      print: (text) => this.guardCallback('print', () => print(text)),
      log: (records: LogRecord[]) => {
        if (!logger) return;
        // The guest is asked to drop less severe records; an untrusted one may not.
        for (const record of records) if (record.level >= maxLogLevel) this.guardCallback('logger', () => logger(record));
      },
      trace: (area) => {
        try {
          this.inUserCode(() => this.trace?.drain(area));
        } catch (error) {
          // The session guard throws only HostCallbackError; the first failure is kept.
          this.callbackFailure ??= error as HostCallbackError;
        }
      },
      clock: (clock) => {
        try {
          return this.inUserCode(() => this.clock.read(clock));
        } catch (error) {
          // SandboxClock.read throws only HostCallbackError; the guest reads 0 and runs on.
          this.callbackFailure ??= error as HostCallbackError;
          return 0n;
        }
      },
    };
  }

  /**
   * @internal Runs the guest's initialisation and records the functions it publishes.
   * @throws like {@link call}, for the guest's initialisation code.
   */
  initialize(): void {
    try {
      this.runGuest(Abi.OP_INIT, undefined, NO_OPTIONS);
      this.setGuestFunctions(decodeFunctionTable(this.guest.readOutput()));
    } catch (error) {
      this.endTrace(error);
      throw error;
    }
    this.endTrace(undefined);
  }

  /** @internal {@link initialize} with the guest on a backend thread. */
  async initializeAsync(): Promise<void> {
    try {
      await this.runGuestAsync(Abi.OP_INIT, undefined, NO_OPTIONS);
      this.setGuestFunctions(decodeFunctionTable(this.guest.readOutput()));
    } catch (error) {
      this.endTrace(error);
      throw error;
    }
    this.endTrace(undefined);
  }

  /**
   * Tells the trace session that the run begun by {@link beginRun} ended,
   * once its output is read: `error` is what the call throws. When the call
   * fails anyway, a throwing `endRun` does not replace its error. Callers
   * inline the try/catch around it (no closure on the call path).
   * @throws HostCallbackError when `endRun` throws and `error` is undefined.
   */
  private endTrace(error: unknown): void {
    if (!this.trace) return;
    try {
      this.inUserCode(() => this.trace?.endRun(error === undefined || error instanceof Error ? error : new Error(String(error))));
    } catch (failure) {
      if (error === undefined) throw failure;
    }
  }

  /**
   * Runs the guest on this thread; a throwing `print` or `logger` fails the
   * run once the guest is done. `name` is the guest function (undefined for
   * initialisation). Errors that poison the sandbox do so here.
   */
  private runGuest(op: EntryOperation, name: string | undefined, options: CallOptions): void {
    const onAbort = this.beginRun(op, name, options);
    try {
      this.guest.run(op, this.exitHandlers, tighterLimit(this.timeoutMs, options.timeoutMs));
      if (this.callbackFailure) throw this.callbackFailure;
    } catch (error) {
      throw this.failRun(error, name, options);
    } finally {
      this.endRun(options.signal, onAbort);
    }
  }

  /** {@link runGuest} with the vCPU on a backend thread. */
  private async runGuestAsync(op: EntryOperation, name: string | undefined, options: CallOptions): Promise<void> {
    const onAbort = this.beginRun(op, name, options);
    try {
      await this.guest.runAsync(op, this.exitHandlers, tighterLimit(this.timeoutMs, options.timeoutMs));
      if (this.callbackFailure) throw this.callbackFailure;
    } catch (error) {
      throw this.failRun(error, name, options);
    } finally {
      this.endRun(options.signal, onAbort);
    }
  }

  /**
   * Marks the sandbox running, begins the trace run (writing the session's
   * settings into the trace area) and ties `options.signal` to the run.
   * @returns the signal's listener, for {@link endRun}.
   * @throws GuestCancelledError when the signal has already aborted; HostCallbackError
   *   when the session's `beginRun` throws, ConfigurationError when its settings do
   *   not fit the trace area (nothing ran in any case; no poison).
   */
  private beginRun(op: EntryOperation, name: string | undefined, { signal }: CallOptions): (() => void) | undefined {
    if (signal?.aborted) throw new GuestCancelledError('aborted', name, { cause: signal.reason });
    this.callbackFailure = undefined;
    this.hostFunctions.lastFailure = undefined;
    this.running = true;
    if (this.trace) {
      const { trace } = this;
      try {
        this.inUserCode(() => this.guest.writeTraceHeader(trace.beginRun(op === Abi.OP_INIT ? 'init' : 'call', name)));
      } catch (error) {
        this.running = false;
        throw error;
      }
    }
    this.clock.beginRun();
    if (!signal) return undefined;
    const onAbort = (): void => {
      this.guest.cancel('aborted');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return onAbort;
  }

  private endRun(signal: AbortSignal | undefined, onAbort: (() => void) | undefined): void {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    this.clock.endRun();
    this.running = false;
    // dispose() during the run only cancelled it; release now that the guest has stopped.
    if (this.disposed) this.guest.dispose();
  }

  /**
   * Turns a cancelled run into the error for its reason, and poisons the
   * sandbox when the error says the guest state cannot be trusted.
   * @returns the error to throw.
   */
  private failRun(error: unknown, name: string | undefined, { timeoutMs, signal }: CallOptions): unknown {
    if (error instanceof RunCancelled) {
      if (error.reason === 'timeout') {
        const callLimit = timeoutMs !== undefined && (this.timeoutMs === undefined || timeoutMs < this.timeoutMs);
        error = callLimit ? new GuestTimeoutError('call', timeoutMs, name) : new GuestTimeoutError('sandbox', this.timeoutMs ?? 0, name);
      } else {
        error = new GuestCancelledError(error.reason, name, error.reason === 'aborted' ? { cause: signal?.reason } : undefined);
      }
    }
    if (error instanceof HyperlightError && POISONS[error.code as keyof typeof POISONS]) this.poison = error;
    return error;
  }

  /** Runs user code on the guest's behalf; {@link dispose} refuses meanwhile. */
  private inUserCode<T>(fn: () => T): T {
    this.inCallback++;
    try {
      return fn();
    } finally {
      this.inCallback--;
    }
  }

  /**
   * Calls a user callback; the first failure is kept for {@link runGuest} to
   * throw. What it throws is never inspected beyond `describeThrown` (it may
   * be a Proxy that throws on every inspection).
   */
  private guardCallback(callback: 'print' | 'logger', fn: () => void): void {
    try {
      this.inUserCode(fn);
    } catch (error) {
      this.callbackFailure ??= new HostCallbackError(callback, describeThrown(error), { cause: error });
    }
  }

  private setGuestFunctions(signatures: readonly GuestFunctionSignature[]): void {
    const functions = new Map<string, GuestFunctionInfo>();
    for (const s of signatures) {
      if (functions.has(s.name)) throw new GuestProtocolError(`the guest declared function "${s.name}" twice`);
      if (s.parameters.length > Abi.MAX_GUEST_FUNCTION_PARAMETERS || s.parameters.includes('void')) {
        throw new GuestProtocolError(`the guest declared function "${s.name}" with invalid parameters`);
      }
      functions.set(s.name, { name: s.name, params: s.parameters as GuestFunctionInfo['params'], returns: s.returnType });
    }
    this.functions = functions;
    this.plans = new Map();
  }

  /** The functions the guest exports, by name. */
  get guestFunctions(): ReadonlyMap<string, GuestFunctionInfo> {
    return this.functions;
  }

  /** Whether an earlier failure left the guest in an untrustworthy state. */
  get poisoned(): boolean {
    return this.poison !== undefined;
  }

  /**
   * Calls guest function `name` on this thread, which blocks until the guest
   * returns (see {@link callAsync} to keep the event loop running). Arguments
   * are checked against the guest's declared signature before anything
   * enters the VM, and `returns` must match the declared return type. The
   * sandbox's `timeoutMs` applies; for per-call options use {@link with}.
   * @throws GuestFunctionNotFoundError, WrongArgumentCountError, WrongArgumentTypeError,
   *   WrongReturnTypeError, MessageTooLargeError before the call enters the VM.
   * @throws GuestFunctionError when the guest function reports an error.
   * @throws HostFunctionError / HostFunctionNotFoundError when a host function the guest called failed
   *   and the guest passed the failure on.
   * @throws HostCallbackError when the `print` function or the `logger` threw (after the guest finished).
   * @throws GuestCancelledError, GuestTimeoutError when the call was stopped (InterruptHandle, AbortSignal, timeoutMs).
   * @throws GuestAbortedError, GuestPanicError, GuestExceptionError, GuestStackOverflowError,
   *   GuestOutOfMemoryError, GuestProtocolError, GuestUnknownPortError, HypervisorError — these and
   *   the two above poison the sandbox.
   * @throws PoisonedSandboxError when an earlier call poisoned the sandbox.
   * @throws SandboxStateError after `dispose()`, or while another call runs or is queued.
   * @example
   * const greeting = sandbox.call('SayHello', 'string', 'World');
   */
  call<R extends ValueTypeName>(name: string, returns: R, ...args: unknown[]): ValueOf<R> {
    return this.callWith(NO_OPTIONS, name, returns, args);
  }

  /**
   * Calls guest function `name` with the guest running on a backend thread:
   * the event loop keeps serving while the guest computes, and host functions
   * may be `async` (the guest waits for the Promise; a rejection reaches it as
   * a host-function failure). Calls on one sandbox run one at a time, in the
   * order made. Costs a little more than {@link call} per guest exit.
   *
   * A host function must not wait for another call of its own sandbox: that
   * call is queued behind the one waiting for it.
   * @returns a promise that rejects with the errors {@link call} throws; after
   *   `dispose()`, a running call rejects with GuestCancelledError (reason
   *   `'disposed'`) and queued ones with SandboxStateError.
   * @example
   * const total = await sandbox.callAsync('Sum', 'i64', data);
   */
  callAsync<R extends ValueTypeName>(name: string, returns: R, ...args: unknown[]): Promise<ValueOf<R>> {
    return this.callAsyncWith(NO_OPTIONS, name, returns, args);
  }

  /**
   * Calls with options: a time limit for the call, an `AbortSignal`, and a
   * destination for `bytes` results.
   * @throws ConfigurationError for an invalid `timeoutMs`, a `signal` that is not an AbortSignal
   *   or an `into` that is not a Uint8Array.
   * @example
   * sandbox.with({ timeoutMs: 100 }).call('Transform', 'string', input);
   * await sandbox.with({ signal: request.signal }).callAsync('Render', 'string', page);
   * const frame = sandbox.with({ into: frameBuffer }).call('RenderFrame', 'bytes', scene); // a view of frameBuffer
   */
  with(options: CallOptions): CallScope {
    const timeoutMs = parseTimeoutMs(options?.timeoutMs, 'timeoutMs');
    const signal: unknown = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new ConfigurationError('signal', `expected an AbortSignal, got ${describeValue(signal)}`);
    }
    const into: unknown = options?.into;
    if (into !== undefined && !(into instanceof Uint8Array)) {
      throw new ConfigurationError('into', `expected a Uint8Array (or Buffer), got ${describeValue(into)}`);
    }
    const fixed: CallOptions = { timeoutMs, signal, into };
    return {
      call: (name, returns, ...args) => this.callWith(fixed, name, returns, args),
      callAsync: (name, returns, ...args) => this.callAsyncWith(fixed, name, returns, args),
    };
  }

  /**
   * A handle that stops this sandbox's running call from any thread
   * (`kill()`); see {@link InterruptHandle}.
   * @throws SandboxStateError after `dispose()`.
   * @example
   * const handle = sandbox.interruptHandle();
   * worker.postMessage(handle); // the worker calls InterruptHandle.from(data).kill()
   */
  interruptHandle(): InterruptHandle {
    if (this.disposed) throw new SandboxStateError('cannot make an interrupt handle: the sandbox is disposed');
    return new InterruptHandle(this.guest.cancelToken, this.backend);
  }

  private callWith<R extends ValueTypeName>(options: CallOptions, name: string, returns: R, args: unknown[]): ValueOf<R> {
    this.assertIdle(`call "${name}"`);
    if (this.poison) throw new PoisonedSandboxError(this.poison);
    this.writeCall(name, returns, args, options);
    let result: ValueOf<R>;
    try {
      this.runGuest(Abi.OP_CALL, name, options);
      result = this.readResult(name, returns, options);
    } catch (error) {
      this.endTrace(error);
      throw error;
    }
    this.endTrace(undefined);
    return result;
  }

  private async callAsyncWith<R extends ValueTypeName>(options: CallOptions, name: string, returns: R, args: unknown[]): Promise<ValueOf<R>> {
    if (this.disposed) throw new SandboxStateError(`cannot call "${name}": the sandbox is disposed`);
    if (this.running && this.asyncCalls === 0) throw new SandboxStateError(`cannot call "${name}": a call() is running (a host function may not call its own sandbox)`);
    // With nothing queued the call starts now, in this tick, so a kill() right after callAsync() stops it.
    const previous = this.asyncCalls === 0 ? undefined : this.queue;
    this.asyncCalls++;
    let done!: () => void;
    this.queue = new Promise((resolve) => (done = resolve));
    try {
      if (previous) await previous;
      if (this.disposed) throw new SandboxStateError(`cannot call "${name}": the sandbox was disposed while the call waited its turn`);
      if (this.poison) throw new PoisonedSandboxError(this.poison);
      this.writeCall(name, returns, args, options);
      let result: ValueOf<R>;
      try {
        await this.runGuestAsync(Abi.OP_CALL, name, options);
        result = this.readResult(name, returns, options);
      } catch (error) {
        this.endTrace(error);
        throw error;
      }
      this.endTrace(undefined);
      return result;
    } finally {
      this.asyncCalls--;
      done();
    }
  }

  /** @throws SandboxStateError when disposed, or while a call runs or is queued. */
  private assertIdle(action: string): void {
    if (this.disposed) throw new SandboxStateError(`cannot ${action}: the sandbox is disposed`);
    if (this.inCallback > 0) {
      throw new SandboxStateError(`cannot ${action} from inside this sandbox's own host function, print or logger: the sandbox is running a call (re-entrant use)`);
    }
    if (this.running || this.asyncCalls > 0) throw new SandboxStateError(`cannot ${action}: a callAsync() is running or queued; await it first`);
  }

  /** Checks the call against the guest's declared signature and its options, and writes it to the input buffer. */
  private writeCall(name: string, returns: ValueTypeName, args: unknown[], { into }: CallOptions): void {
    const info = this.functions.get(name);
    if (!info) throw new GuestFunctionNotFoundError(name);
    if (info.returns !== returns) throw new WrongReturnTypeError(name, String(returns), info.returns);
    if (into !== undefined && returns !== 'bytes') throw new ConfigurationError('into', `only calls that return bytes take a destination; "${name}" returns ${returns}`);
    const { params } = info;
    if (args.length !== params.length) throw new WrongArgumentCountError(name, params.length, args.length);
    for (let index = 0; index < params.length; index++) {
      const problem = checkValue(params[index]!, args[index]);
      if (problem !== undefined) throw new WrongArgumentTypeError(name, index, params[index]!, `${describeValue(args[index])} (${problem})`);
    }
    let plan = this.plans.get(name);
    if (!plan) this.plans.set(name, (plan = planCall(name, params, info.returns)));
    this.guest.writeCall(plan, args);
  }

  /** Decodes the call's result from the output buffer into its value or error; a byte array into `into` when given. */
  private readResult<R extends ValueTypeName>(name: string, returns: R, { into }: CallOptions): ValueOf<R> {
    let result: CallResult;
    try {
      result = this.guest.readCallResult(into && ((byteLength) => viewOfDestination(into, name, byteLength)));
    } catch (error) {
      throw this.failRun(error, name, NO_OPTIONS);
    }
    if (!result.ok) throw this.callError(name, result.code, result.message);
    if (result.value.type !== returns) {
      this.poison = new GuestProtocolError(`"${name}" returned ${result.value.type}, not the declared ${returns}`);
      throw this.poison;
    }
    return result.value.value as ValueOf<R>;
  }

  /**
   * Captures the sandbox's whole state — guest memory, registers, x87/SSE/AVX
   * state and the guest's function table — so {@link restore} can return to
   * it and {@link MultiUseSandbox.fromSnapshot} can start new sandboxes from
   * it. Memory is copied once (never-written pages are not); the sandbox then
   * runs copy-on-write over the snapshot, so restoring costs only the pages
   * written since.
   * @throws SandboxStateError after `dispose()`, or while a call runs or is queued.
   * @throws PoisonedSandboxError when the sandbox is poisoned (restore it first).
   * @throws HypervisorError when the backend fails; this poisons the sandbox.
   * @example
   * using clean = sandbox.snapshot();
   * sandbox.call('RunPlugin', 'string', untrustedInput);
   * sandbox.restore(clean); // every byte the guest wrote is gone
   */
  snapshot(): Snapshot {
    this.assertIdle('take a snapshot');
    if (this.poison) throw new PoisonedSandboxError(this.poison);
    let captured: ReturnType<GuestVm['capture']>;
    try {
      captured = this.guest.capture();
    } catch (error) {
      this.poison = error as HyperlightError;
      throw error;
    }
    const { memory, cpu } = captured;
    const { origin } = this;
    const state: SnapshotState = {
      backend: this.backend.name,
      binaryDigest: origin.binaryDigest,
      layout: normalizeLayoutOptions(origin.layout),
      entryOffset: origin.entryOffset,
      linkBase: origin.linkBase,
      maxLogLevel: origin.maxLogLevel,
      initDataDigest: origin.initDataDigest,
      guestFunctions: [...this.functions.values()].map(({ name, params, returns }) => ({ name, params: [...params], returns })),
      hostFunctions: [...this.hostFunctions.signatures()].map(([name, { params, returns }]) => ({ name, params: [...params], returns })),
      ...cpu,
      xsaveEnabled: this.guest.xsaveEnabled,
    };
    return new Snapshot(memory, state, this.backend);
  }

  /**
   * Puts the sandbox back exactly as it was at `snapshot` — every byte of
   * guest memory, the registers, the FPU state and the function table — and
   * clears poison. What the guest did since does not matter: nothing the guest
   * wrote is consulted. The snapshot may come from another sandbox of the same
   * guest binary and configuration, or from disk.
   * @throws SandboxStateError after `dispose()`, or while a call runs or is queued.
   * @throws SnapshotDisposedError when `snapshot` was disposed.
   * @throws SnapshotMismatchError when `snapshot` is of another guest binary, memory layout or
   *   configuration, needs host functions this sandbox lacks, or comes from another backend or CPU.
   * @throws HypervisorError when the backend fails; the sandbox is then poisoned.
   * @example
   * try { sandbox.call('Risky', 'void'); } catch { sandbox.restore(clean); }
   */
  restore(snapshot: Snapshot): void {
    this.assertIdle('restore');
    if (!(snapshot instanceof Snapshot)) throw new TypeError('restore(snapshot): expected a Snapshot');
    const { memory, state } = snapshot.use('restore a sandbox');
    checkOrigin(state, this.origin);
    checkVm(state, this.backend.name, this.guest.xsaveEnabled);
    checkHostFunctions(state, this.hostFunctions.signatures());
    try {
      this.guest.restore(memory, state);
    } catch (error) {
      this.poison = error as HyperlightError;
      throw error;
    }
    this.setGuestFunctions(state.guestFunctions.map((f) => ({ name: f.name, parameters: f.params, returnType: f.returns })));
    this.poison = undefined;
  }

  /**
   * Creates a sandbox from a snapshot, with no ELF load and no guest
   * initialisation: its memory is the snapshot's, shared copy-on-write, so
   * each extra sandbox costs the pages it writes plus a small fixed overhead.
   * Sizes, `initData` and `maxLogLevel` come from the snapshot; giving one
   * that differs is an error. `print`, `logger`, `hostFunctions`, `tracing`
   * and `clock` are free: a traced sandbox opens its own trace session, and
   * the new sandbox's default monotonic and CPU clocks start afresh.
   * @throws SnapshotDisposedError when `snapshot` was disposed.
   * @throws SnapshotMismatchError when `options` change the configuration (`configuration`),
   *   the host functions do not cover the snapshot's (`host-functions`), or the backend
   *   or CPU cannot load its state (`backend`, `cpu`).
   * @throws ConfigurationError for an invalid option, or a snapshot larger than `maxMemorySize`;
   *   InvalidHostFunctionError for a bad host function.
   * @throws HypervisorError when the backend fails to create the VM.
   * @throws HostCallbackError when the `tracing` collector's `open` throws.
   * @example
   * using warm = sandbox.snapshot();
   * using copy = MultiUseSandbox.fromSnapshot(warm, {
   *   hostFunctions: { GetWeekday: hostFunction({ params: [], returns: 'string' }, () => 'Monday') },
   * });
   */
  static fromSnapshot(snapshot: Snapshot, options: SnapshotSandboxOptions = {}): MultiUseSandbox {
    if (!(snapshot instanceof Snapshot)) throw new TypeError('fromSnapshot(snapshot): expected a Snapshot');
    const { memory, state, backend } = snapshot.use('create a sandbox from a snapshot');
    const { hostFunctions = {}, ...rest } = options ?? {};
    const sizes = Object.fromEntries(Object.keys(DEFAULT_CONFIGURATION).map((k) => [k, rest[k as keyof typeof DEFAULT_CONFIGURATION]]));
    checkConfiguration(state, {
      sizes,
      maxLogLevel: rest.maxLogLevel === undefined ? undefined : parseLogLevel(rest.maxLogLevel, 'maxLogLevel'),
      initDataDigest: rest.initData === undefined ? undefined : sha256Hex(rest.initData),
    });
    if (rest.backend !== undefined && (typeof rest.backend === 'string' ? rest.backend : rest.backend.name) !== backend.name) {
      throw new SnapshotMismatchError('backend', `the snapshot belongs to the ${backend.name} backend; the options ask for ${typeof rest.backend === 'string' ? rest.backend : rest.backend.name}`);
    }
    const config = resolveConfiguration({ ...rest, backend, maxLogLevel: state.maxLogLevel });
    const registry = new HostFunctionRegistry();
    for (const [name, definition] of Object.entries(hostFunctions)) registry.register(name, definition?.signature, definition?.fn);
    checkHostFunctions(state, registry.signatures());
    const layout = MemoryLayout.compute(state.layout, { bytes: config.maxMemorySize, option: 'maxMemorySize' });
    const vm = hypervisorCall('create the VM', () => backend.createVm({ memorySize: layout.totalSize, memory }));
    try {
      checkVm(state, backend.name, vm.xsaveEnabled);
      const guest = new GuestVm(vm, layout, state.entryOffset);
      guest.restore(undefined, state);
      const { binaryDigest, entryOffset, linkBase, maxLogLevel, initDataDigest } = state;
      const origin: SandboxOrigin = { binaryDigest, layout: state.layout, entryOffset, linkBase, maxLogLevel, initDataDigest };
      const sandbox = new MultiUseSandbox(guest, registry, config, origin, backend);
      sandbox.setGuestFunctions(state.guestFunctions.map((f) => ({ name: f.name, parameters: f.params, returnType: f.returns })));
      return sandbox;
    } catch (error) {
      vm.dispose();
      throw error;
    }
  }

  /**
   * Releases the VM and its memory, and closes the `tracing` session.
   * Idempotent. A running call is cancelled (it throws GuestCancelledError,
   * reason `'disposed'`) and the VM released as soon as the guest has
   * stopped; queued `callAsync()`s reject.
   * @throws SandboxStateError from inside one of this sandbox's host functions,
   *   `print` or `logger` (the call goes on; dispose after it returns).
   * @throws HostCallbackError when the trace session's `close` throws (the
   *   sandbox is disposed nonetheless).
   */
  dispose(): void {
    if (this.disposed) return;
    if (this.inCallback > 0) {
      throw new SandboxStateError('cannot dispose the sandbox from inside its own host function, print or logger: the call is still running; dispose after it returns');
    }
    this.disposed = true;
    if (this.running) this.guest.cancel('disposed');
    else this.guest.dispose();
    this.trace?.close();
  }

  /** Same as {@link dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Maps a guest-reported call error to the matching error class. */
  private callError(name: string, code: number, message: string): HyperlightError {
    // The guest passed on the failure of its last host call: report the host's own error.
    const hostFailure = this.hostFunctions.lastFailure;
    if (hostFailure && hostFailure.code === code) return hostFailure.error;
    switch (code) {
      case ErrorCode.FunctionNotFound:
        return new GuestFunctionNotFoundError(name);
      case ErrorCode.MessageTooLarge:
        return new MessageTooLargeError(
          `a message from guest function "${name}" (its result or a host call's arguments)`, undefined, this.guest.layout.outputSize, 'outputSize',
        );
    }
    return new GuestFunctionError(name, message);
  }
}

/**
 * The first `byteLength` bytes of a call's `into` array, for its result.
 * @throws MessageTooLargeError when the array is shorter (nothing is written then).
 */
function viewOfDestination(into: Uint8Array, name: string, byteLength: number): Uint8Array {
  if (byteLength > into.byteLength) throw new MessageTooLargeError(`the result of "${name}"`, byteLength, into.byteLength, 'into');
  return into.subarray(0, byteLength);
}

/** The time limit that applies: the smaller of the sandbox's and the call's. */
function tighterLimit(sandboxMs: number | undefined, callMs: number | undefined): number | undefined {
  return callMs !== undefined && (sandboxMs === undefined || callMs < sandboxMs) ? callMs : sandboxMs;
}
