/**
 * One guest loaded into one VM, and the loop that runs it: enter at the ELF
 * entry with an operation, then handle exits until the guest halts or fails.
 */
import { Abi, PebOffset, Ports } from '../abi/generated.js';
import type { CancelReason, CancelToken, MemoryAccess, MemorySnapshot, Registers, SpecialRegisters, VirtualMachine, VmExit } from '../backend/backend.js';
import {
  GuestAbortedError, GuestExceptionError, GuestOutOfMemoryError, GuestPanicError, GuestProtocolError,
  GuestStackOverflowError, GuestUnknownPortError, HyperlightError, HypervisorError, MessageTooLargeError,
} from '../errors.js';
import { readExceptionFrame, isStackGuardFault } from '../arch/x86_64/exception-frame.js';
import { entryRegisters, type EntryOperation } from '../arch/x86_64/entry-registers.js';
import { guestSpecialRegisters } from '../arch/x86_64/special-registers.js';
import { writeSystemStructures } from '../arch/x86_64/system-structures.js';
import { loadElf, type ElfImage } from '../mem/elf-loader.js';
import { GuestMemory } from '../mem/guest-memory.js';
import type { MemoryLayout } from '../mem/layout.js';
import { writePeb } from '../mem/peb.js';
import { CallEncoder, type CallPlan } from '../protocol/call-encoder.js';
import { CallDecoder } from '../protocol/call-decoder.js';
import type { CallResult, FunctionCallMessage, LogLevel } from '../protocol/codec.js';
import type { ByteArrayAllocator } from '../protocol/message-reader.js';
import { ResultDecoder } from '../protocol/result-decoder.js';
import { ResultEncoder } from '../protocol/result-encoder.js';
import { readFrame, readTextFrame } from '../protocol/framing.js';
import { drainLogArea, type LogRecord } from '../protocol/log-area.js';
import { clockNameOf, type ClockName } from './guest-clock.js';
import type { ReplyWriter } from './host-functions.js';

/** How a `memory-fault` message words each access. */
const PAST_TENSE: Record<MemoryAccess, string> = { read: 'read', write: 'wrote', execute: 'executed' };

/** The most abort-message text the host keeps, in characters. */
const MAX_ABORT_MESSAGE_LENGTH = 1024 * 1024;

/** What the run loop asks of its owner while the guest runs. */
export interface ExitHandlers {
  /** Runs a host function the guest called; returns the writer of its reply, which the loop calls to answer. Must not throw. */
  callHost(call: FunctionCallMessage): ReplyWriter;
  /** {@link callHost} that may wait for an async host function; the loop calls the writer only if the run still waits. Must not reject. */
  callHostAsync(call: FunctionCallMessage): Promise<ReplyWriter>;
  /** Delivers guest-printed text. Must not throw. */
  print(text: string): void;
  /** Delivers drained log records. Must not throw. */
  log(records: LogRecord[]): void;
  /** Drains the trace area (only called once {@link GuestVm.enableTracing} was). Must not throw. */
  trace(area: Uint8Array): void;
  /** The reading of `clock` in nanoseconds (0 to 2^64 - 1) for a CLOCK exit. Must not throw. */
  clock(clock: ClockName): bigint;
}

/**
 * Thrown by {@link GuestVm.run} when the run was cancelled; the sandbox turns
 * it into the public error for the reason (it knows the call and its limits).
 */
export class RunCancelled extends Error {
  /** @param reason - why the backend cancelled the run */
  constructor(readonly reason: CancelReason) {
    super(`guest run cancelled: ${reason}`);
  }
}

/** What a run accumulates across exits. */
interface RunState {
  abortMessage: string;
  /** The call guard's call is still open. */
  open: boolean;
}

/** {@link GuestVm.step}'s answer when the guest only needs to be resumed. */
const RESUME = Symbol('resume');
/** {@link GuestVm.step}'s answer when the guest halted: its output is in the output buffer. */
const DONE = Symbol('done');

/** The vCPU state a snapshot keeps. */
export interface CpuState {
  readonly registers: Registers;
  readonly specialRegisters: SpecialRegisters;
  /** `VirtualMachine.getFpuState()`: x87/SSE/AVX registers and control words. */
  readonly fpuState: Uint8Array;
}

/** What a {@link GuestVm} writes into guest memory besides the image. */
export interface GuestVmOptions {
  /** Bytes for the init data area; `layout.initDataBlobSize` long. */
  readonly initData: Uint8Array;
  /** Written to the PEB: the guest drops records less severe than this. */
  readonly maxLogLevel: LogLevel;
}

/** Wraps anything a backend throws, so callers only see hyperlight errors. */
export function hypervisorCall<T>(operation: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw asHyperlightError(operation, error);
  }
}

/** {@link hypervisorCall} for a backend call that returns a promise. */
async function hypervisorCallAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asHyperlightError('run the vCPU', error);
  }
}

function asHyperlightError(operation: string, error: unknown): HyperlightError {
  if (error instanceof HyperlightError) return error;
  return new HypervisorError(operation, (error as Error)?.message ?? String(error), { cause: error });
}

/** A guest ELF loaded into a VM's memory, with its CPU state prepared. */
export class GuestVm {
  readonly memory: GuestMemory;
  private readonly input: Uint8Array;
  private readonly output: Uint8Array;
  private readonly logArea: Uint8Array;
  /** The trace area once tracing is enabled; untraced sandboxes never touch it. */
  private traceArea: Uint8Array | undefined;
  /** The registers of each entry operation: the same for every run, so built once (and frozen). */
  private readonly entries: Readonly<Record<EntryOperation, Registers>>;
  private readonly callEncoder: CallEncoder;
  private readonly resultDecoder: ResultDecoder;
  private readonly callDecoder: CallDecoder;
  private readonly resultEncoder: ResultEncoder;

  /**
   * Wraps a VM whose memory already holds a guest (loaded by {@link GuestVm.load}
   * or mapped from a snapshot); loads nothing.
   * @throws GuestProtocolError when `layout` does not fit the VM's memory.
   */
  constructor(
    private readonly vm: VirtualMachine,
    readonly layout: MemoryLayout,
    entryOffset: number,
  ) {
    this.memory = new GuestMemory(vm.memory);
    this.input = this.memory.subarray(layout.inputGpa, layout.inputSize);
    this.output = this.memory.subarray(layout.outputGpa, layout.outputSize);
    this.logArea = this.memory.subarray(layout.logGpa, layout.logSize);
    this.callEncoder = new CallEncoder(this.input);
    this.resultDecoder = new ResultDecoder(this.output);
    this.callDecoder = new CallDecoder(this.output);
    this.resultEncoder = new ResultEncoder(this.input);
    const entryGva = BigInt(layout.imageGpa) + BigInt(entryOffset);
    this.entries = {
      [Abi.OP_INIT]: Object.freeze(entryRegisters(layout, Abi.OP_INIT, entryGva)),
      [Abi.OP_CALL]: Object.freeze(entryRegisters(layout, Abi.OP_CALL, entryGva)),
    };
  }

  /**
   * Writes the system structures, PEB, image and init data into the memory
   * of a new VM (which reads as zeros: pages left unwritten stay unallocated)
   * and loads the guest's special registers.
   * @throws ConfigurationError when `options.maxLogLevel` is not a `LogLevel`.
   * @throws HypervisorError when the backend refuses the CPU state.
   */
  static load(vm: VirtualMachine, layout: MemoryLayout, image: ElfImage, elfBytes: Uint8Array, options: GuestVmOptions): GuestVm {
    const guest = new GuestVm(vm, layout, image.entryOffset);
    const { memory } = guest;
    writeSystemStructures(memory, layout);
    writePeb(memory, layout, { maxLogLevel: options.maxLogLevel });
    // A new VM's memory reads as zeros: only the file's bytes are written, so an untouched .bss stays free.
    loadElf(image, elfBytes, memory.subarray(layout.imageGpa, layout.imageSize), layout.imageGpa, true);
    if (options.initData.length > 0) memory.writeBytes(layout.initDataGpa, options.initData);
    // The FPU needs nothing: a new VM starts at power-on x87/SSE state (docs/abi.md).
    hypervisorCall('set special registers', () => vm.setSpecialRegisters(guestSpecialRegisters(layout, { xsave: vm.xsaveEnabled })));
    return guest;
  }

  /** The guest's TSC frequency in Hz, when the backend reports it. */
  get tscFrequencyHz(): number | undefined {
    return hypervisorCall('read the TSC frequency', () => this.vm.tscFrequencyHz);
  }

  /** From now on every exit drains the trace area (`handlers.trace`) and {@link capture} clears its header. */
  enableTracing(): void {
    this.traceArea = this.memory.subarray(this.layout.traceGpa, this.layout.traceSize);
  }

  /** Writes the trace area's header (`TRACE_HEADER_SIZE` bytes) before a run; only with tracing enabled. */
  writeTraceHeader(header: Uint8Array): void {
    this.traceArea?.set(header);
  }

  /** The VM's XSAVE setting (part of what a snapshot must match). */
  get xsaveEnabled(): boolean {
    return this.vm.xsaveEnabled;
  }

  /**
   * Captures the CPU state and an immutable copy of memory; memory then
   * continues copy-on-write over that copy. With tracing, the trace header is
   * zeroed first, so the snapshot asks nothing of an untraced sandbox made
   * from it (a traced one writes its settings before every run anyway).
   * @throws HypervisorError when the backend fails.
   */
  capture(): { memory: MemorySnapshot; cpu: CpuState } {
    this.traceArea?.fill(0, 0, Abi.TRACE_HEADER_SIZE);
    return hypervisorCall('take a snapshot', () => {
      const cpu: CpuState = {
        registers: this.vm.getRegisters(),
        specialRegisters: this.vm.getSpecialRegisters(),
        fpuState: this.vm.getFpuState(),
      };
      return { memory: this.vm.snapshotMemory(), cpu };
    });
  }

  /**
   * Puts memory (when given) and CPU state back.
   * @throws HypervisorError when the backend refuses.
   */
  restore(memory: MemorySnapshot | undefined, cpu: CpuState): void {
    hypervisorCall('restore a snapshot', () => {
      if (memory) this.vm.restoreMemory(memory);
      this.vm.setSpecialRegisters(cpu.specialRegisters);
      this.vm.setFpuState(cpu.fpuState);
      this.vm.setRegisters(cpu.registers);
    });
  }

  /**
   * Writes a call of `plan`'s function with `args` (already checked against
   * its parameter types) to the input buffer.
   * @throws MessageTooLargeError when it does not fit.
   */
  writeCall(plan: CallPlan, args: ArrayLike<unknown>): void {
    const written = this.callEncoder.encode(plan, args);
    if (written < 0) throw new MessageTooLargeError(`call of "${plan.functionName}"`, -written, this.input.byteLength, 'inputSize');
  }

  /**
   * The `FunctionCallResult` the guest left in the output buffer.
   * @param allocate - where a byte-array result is copied to (default: a new array)
   * @throws GuestProtocolError when it is malformed; what `allocate` throws.
   */
  readCallResult(allocate?: ByteArrayAllocator): CallResult {
    return this.resultDecoder.decodeFrame('guest output', allocate);
  }

  /**
   * The message the guest left in the output buffer (a copy-free view).
   * @throws GuestProtocolError when its frame is malformed.
   */
  readOutput(): Uint8Array {
    return readFrame(this.output);
  }

  /** This VM's name for `Backend.cancelCall`, from any thread. */
  get cancelToken(): CancelToken {
    return this.vm.callGuard.token;
  }

  /**
   * Cancels the guest run in progress, if any (a no-op between runs).
   * @returns whether a run was in progress and is now being cancelled.
   */
  cancel(reason: CancelReason): boolean {
    return this.vm.callGuard.cancel(reason);
  }

  /**
   * Runs the guest with `op` until it halts, blocking this thread; its
   * output message is then in the output buffer ({@link readOutput},
   * {@link readCallResult}).
   * @throws GuestAbortedError, GuestPanicError, GuestOutOfMemoryError, GuestExceptionError,
   *   GuestStackOverflowError, GuestUnknownPortError, GuestProtocolError (also for a CLOCK exit
   *   with an unknown clock id) or HypervisorError;
   *   {@link RunCancelled} when the run is cancelled (e.g. after `timeoutMs`).
   */
  run(op: EntryOperation, handlers: ExitHandlers, timeoutMs: number | undefined): void {
    const guard = this.vm.callGuard;
    guard.begin(timeoutMs);
    const state: RunState = { abortMessage: '', open: true };
    try {
      let exit = this.runVcpu(this.entries[op]);
      for (;;) {
        const next = this.step(exit, state, handlers);
        if (next === DONE) return this.closeCall(state);
        if (next !== RESUME) handlers.callHost(next)(this.resultEncoder);
        exit = this.runVcpu();
      }
    } finally {
      if (state.open) guard.end();
    }
  }

  /**
   * {@link run} with the vCPU on a backend thread, so this thread's event loop
   * keeps running; host functions may return Promises. A cancel also ends the
   * wait for a host function.
   * @throws as {@link run} (the promise rejects).
   */
  async runAsync(op: EntryOperation, handlers: ExitHandlers, timeoutMs: number | undefined): Promise<void> {
    const guard = this.vm.callGuard;
    guard.begin(timeoutMs);
    const state: RunState = { abortMessage: '', open: true };
    try {
      let exit = await hypervisorCallAsync(() => this.vm.runAsync(this.entries[op]));
      for (;;) {
        const next = this.step(exit, state, handlers);
        if (next === DONE) return this.closeCall(state);
        if (next !== RESUME) (await this.unlessCancelled(handlers.callHostAsync(next)))(this.resultEncoder);
        exit = await hypervisorCallAsync(() => this.vm.runAsync());
      }
    } finally {
      if (state.open) guard.end();
    }
  }

  /** `vm.run(regs)`, with what the backend throws wrapped as by {@link hypervisorCall} (without a closure per run). */
  private runVcpu(regs?: Registers): VmExit {
    try {
      return this.vm.run(regs);
    } catch (error) {
      throw asHyperlightError('run the vCPU', error);
    }
  }

  /**
   * Closes the call once the guest is done. A cancel that landed after the
   * guest's last exit still wins, so a `kill()` that reported success always
   * means the call fails.
   */
  private closeCall(state: RunState): void {
    state.open = false;
    const reason = this.vm.callGuard.end();
    if (reason !== undefined) throw new RunCancelled(reason);
  }

  /** Waits for `promise`, or throws the cancel error as soon as the run is cancelled. */
  private async unlessCancelled<T>(promise: Promise<T>): Promise<T> {
    let stop = (): void => {};
    const cancelled = new Promise<never>((_, reject) => {
      stop = this.vm.callGuard.onCancel((reason) => reject(new RunCancelled(reason)));
    });
    try {
      return await Promise.race([promise, cancelled]);
    } finally {
      stop();
    }
  }

  /**
   * Handles one exit: {@link DONE} when the guest halted, a host call to
   * answer, or {@link RESUME} to run on.
   */
  private step(exit: VmExit, state: RunState, handlers: ExitHandlers): FunctionCallMessage | typeof DONE | typeof RESUME {
    this.drainLog(handlers);
    if (this.traceArea !== undefined) handlers.trace(this.traceArea);
    if (exit.kind === 'cancelled') {
      const reason = this.vm.callGuard.cancelReason;
      if (reason === undefined) throw new HypervisorError('run the vCPU', 'the backend reported a cancel that nobody requested');
      throw new RunCancelled(reason);
    }
    if (exit.kind !== 'io-out') this.failOnExit(exit);
    const { port, value } = exit;
    switch (port) {
      case Ports.HALT:
        return DONE;
      case Ports.CALL_HOST:
        return this.callDecoder.decodeFrame();
      case Ports.ABORT:
        throw abortError(value >>> 0, (state.abortMessage + this.abortText()).slice(0, MAX_ABORT_MESSAGE_LENGTH));
      case Ports.ABORT_CHUNK:
        if (state.abortMessage.length < MAX_ABORT_MESSAGE_LENGTH) state.abortMessage += readTextFrame(this.output);
        return RESUME;
      case Ports.DEBUG_PRINT:
        handlers.print(readTextFrame(this.output));
        return RESUME;
      case Ports.CLOCK:
        this.memory.writeU64(this.layout.pebGpa + PebOffset.clockNs, handlers.clock(clockNameOf(value >>> 0)));
        return RESUME;
      case Ports.LOG_FLUSH:
      case Ports.TRACE_FLUSH:
        return RESUME;
      default:
        if (port >= Ports.EXCEPTION_BASE && port < Ports.EXCEPTION_BASE + Abi.EXCEPTION_VECTOR_COUNT) {
          throw this.exceptionError(port - Ports.EXCEPTION_BASE);
        }
        throw new GuestUnknownPortError(port, 'out');
    }
  }

  /**
   * The text frame that goes with an abort. A guest that aborts because it
   * could not trust its PEB cannot write one, so a bad frame is no error here.
   */
  private abortText(): string {
    try {
      return readTextFrame(this.output);
    } catch (error) {
      if (error instanceof GuestProtocolError) return '';
      throw error;
    }
  }

  /** Releases the VM. */
  dispose(): void {
    this.vm.dispose();
  }

  private drainLog(handlers: ExitHandlers): void {
    if (this.logArea.length < 4 || (this.logArea[0]! | this.logArea[1]! | this.logArea[2]! | this.logArea[3]!) === 0) return;
    handlers.log(drainLogArea(this.logArea));
  }

  /** Turns every exit other than `io-out` and `cancelled` into the error it means. */
  private failOnExit(exit: Exclude<VmExit, { kind: 'io-out' | 'cancelled' }>): never {
    switch (exit.kind) {
      case 'io-in':
        throw new GuestUnknownPortError(exit.port, 'in');
      case 'triple-fault':
        // Only a fault while delivering a fault gets here: the IDT, IST stack
        // and stubs are supervisor pages the guest cannot break.
        throw new GuestExceptionError(8, hypervisorCall('read registers', () => this.vm.getRegisters()).rip);
      case 'halt':
        throw new GuestProtocolError('the vCPU halted outside the ABI');
      case 'memory-fault':
        if (exit.unmapped) throw new GuestProtocolError(`guest touched unbacked guest-physical address 0x${exit.gpa.toString(16)}`);
        throw new GuestProtocolError(`guest ${PAST_TENSE[exit.access]} protected guest-physical address 0x${exit.gpa.toString(16)} (a ${exit.access} access its region does not allow)`);
      case 'invalid-state':
      case 'hypervisor-error':
      case 'unknown':
        throw new HypervisorError('run the vCPU', `${exit.kind}: ${exit.detail}`);
    }
  }

  private exceptionError(vector: number): HyperlightError {
    const frame = readExceptionFrame(this.memory, this.layout, vector);
    if (vector === 14) {
      const cr2 = hypervisorCall('read special registers', () => this.vm.getSpecialRegisters()).cr2;
      if (isStackGuardFault(this.layout, cr2)) return new GuestStackOverflowError(frame.rip, cr2);
      return new GuestExceptionError(vector, frame.rip, frame.errorCode, cr2);
    }
    return new GuestExceptionError(vector, frame.rip, frame.errorCode);
  }
}

function abortError(code: number, message: string): HyperlightError {
  switch (code) {
    case Number(Abi.ABORT_CODE_PANIC):
      return new GuestPanicError(message);
    case Number(Abi.ABORT_CODE_OUT_OF_MEMORY):
      return new GuestOutOfMemoryError(message);
    default:
      return new GuestAbortedError(code, message);
  }
}
