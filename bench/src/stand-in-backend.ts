/**
 * A backend whose VMs run no guest code: an in-process stand-in that answers
 * every guest entry at once with messages encoded in advance, so a sandbox
 * driven through the public API measures the host side of a call alone.
 *
 * Initialisation publishes the function table it was given; a call writes
 * the prepared `FunctionCallResult` frame into the output buffer and exits
 * with HALT, or first exits once with CALL_HOST and a prepared host call.
 * Cancels and time limits work as core's `TimerCallGuard` has them (between
 * runs; runs never block); snapshots and FPU state are not modelled.
 */
import {
  Abi, encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, PebOffset, Ports, TimerCallGuard, writeFrame,
  type Backend, type CallResult, type FunctionCallMessage,
  type GuestFunctionSignature, type GuestRegion, type MemorySnapshot, type Registers, type SpecialRegisters, type VirtualMachine, type VmExit,
} from '@hyperlight-ts/core/backend';

/** What a stand-in guest does. */
export interface StandInGuest {
  /** The guest functions it publishes at initialisation. */
  readonly functions: readonly GuestFunctionSignature[];
  /** What every call returns. */
  readonly result: CallResult;
  /** A host function it calls once per call, before returning {@link result}. */
  readonly hostCall?: FunctionCallMessage;
  /**
   * Trace records it leaves in the trace area at every call, as a traced
   * guest would (whether or not the host asked for any); the host drains them
   * at the call's exit.
   */
  readonly traceRecords?: Uint8Array;
}

const halt: VmExit = { kind: 'io-out', port: Ports.HALT, size: 1, value: 0 };
const callHost: VmExit = { kind: 'io-out', port: Ports.CALL_HOST, size: 1, value: 0 };
const cancelled: VmExit = { kind: 'cancelled' };

/** A frame holding `payload`, ready to copy into a buffer. */
function frame(payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(Abi.FRAME_HEADER_SIZE + payload.byteLength);
  writeFrame(bytes, payload, 'stand-in message', 'size');
  return bytes;
}

/** One stand-in VM: plain memory, and a guest that is a fixed reply. */
class StandInVm implements VirtualMachine {
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled = false;
  /** A guest TSC frequency, as KVM reports one (trace times then need no estimate). */
  readonly tscFrequencyHz = 2_000_000_000;
  readonly callGuard = new TimerCallGuard('kvm');
  private readonly bytes: Uint8Array;
  private readonly functionsFrame: Uint8Array;
  private readonly resultFrame: Uint8Array;
  private readonly hostCallFrame: Uint8Array | undefined;
  private readonly traceRecords: Uint8Array | undefined;
  /** Where the trace area is (read from the PEB at the first entry). */
  private traceGva = -1;
  /** Where the output buffer is (read from the PEB at the first entry). */
  private outputGva = -1;
  /** The frame the output buffer holds: the host never writes there, so an unchanged frame is not copied again. */
  private written: Uint8Array | undefined;
  /** The call has made its host call and waits to be resumed. */
  private inHostCall = false;
  private regs = {} as Registers;
  private sregs = {} as SpecialRegisters;

  constructor(memorySize: number, guest: StandInGuest) {
    this.memory = new ArrayBuffer(memorySize);
    this.bytes = new Uint8Array(this.memory);
    this.functionsFrame = frame(encodeGuestFunctionDetails(guest.functions));
    this.resultFrame = frame(encodeFunctionCallResult(guest.result));
    this.hostCallFrame = guest.hostCall && frame(encodeFunctionCall(guest.hostCall));
    this.traceRecords = guest.traceRecords;
  }

  run(regs?: Registers): VmExit {
    if (this.callGuard.cancelReason !== undefined) return cancelled;
    if (regs) {
      this.regs = regs;
      this.inHostCall = false;
      if (this.outputGva < 0) {
        const peb = new DataView(this.memory, Number(regs.rdi));
        this.outputGva = Number(peb.getBigUint64(PebOffset.outputGva, true));
        this.traceGva = Number(peb.getBigUint64(PebOffset.traceGva, true));
      }
      if (Number(regs.rsi) === Abi.OP_INIT) return this.reply(this.functionsFrame, halt);
      if (this.traceRecords) this.leaveTraceRecords(this.traceRecords);
      if (this.hostCallFrame) {
        this.inHostCall = true;
        return this.reply(this.hostCallFrame, callHost);
      }
    } else if (!this.inHostCall) {
      throw new Error('the stand-in guest was resumed without a host call to return from');
    }
    this.inHostCall = false;
    return this.reply(this.resultFrame, halt);
  }

  private leaveTraceRecords(records: Uint8Array): void {
    this.bytes.set(records, this.traceGva + Abi.TRACE_HEADER_SIZE);
    new DataView(this.memory).setUint32(this.traceGva + Abi.TRACE_OFFSET_USED, records.byteLength, true);
  }

  private reply(message: Uint8Array, exit: VmExit): VmExit {
    if (this.written !== message) {
      this.bytes.set(message, this.outputGva);
      this.written = message;
    }
    return exit;
  }

  async runAsync(regs?: Registers): Promise<VmExit> {
    return this.run(regs);
  }
  getRegisters(): Registers {
    return this.regs;
  }
  setRegisters(regs: Registers): void {
    this.regs = regs;
  }
  getSpecialRegisters(): SpecialRegisters {
    return this.sregs;
  }
  setSpecialRegisters(sregs: SpecialRegisters): void {
    this.sregs = sregs;
  }
  getFpuState(): Uint8Array {
    throw new Error('the stand-in backend has no FPU state');
  }
  setFpuState(): void {
    throw new Error('the stand-in backend has no FPU state');
  }
  snapshotMemory(): MemorySnapshot {
    throw new Error('the stand-in backend takes no snapshots');
  }
  restoreMemory(): void {
    throw new Error('the stand-in backend takes no snapshots');
  }
  privatePageCount(): number {
    return 0;
  }
  mapRegion(): GuestRegion {
    throw new Error('the stand-in backend has main memory only');
  }
  dispose(): void {}
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * A backend whose VMs play `guest`. Pass it as the `backend` option of
 * `UninitializedSandbox.create`.
 * @example
 * const backend = standInBackend({ functions: [{ name: 'EchoI32', parameters: ['i32'], returnType: 'i32' }], result: { ok: true, value: { type: 'i32', value: 42 } } });
 * const sandbox = UninitializedSandbox.create(binary, { backend }).evolve();
 */
export function standInBackend(guest: StandInGuest): Backend {
  const vms: StandInVm[] = [];
  return {
    name: 'kvm',
    check: () => ({ usable: true, detail: 'in-process stand-in' }),
    createVm: ({ memorySize, memory }) => {
      if (memory) throw new Error('the stand-in backend takes no snapshots');
      const vm = new StandInVm(memorySize, guest);
      vms.push(vm);
      return vm;
    },
    mapSnapshotFile: () => {
      throw new Error('the stand-in backend takes no snapshots');
    },
    cancelCall: (token, reason) => vms.find((vm) => vm.callGuard.token.id === token.id)?.callGuard.cancel(reason) ?? false,
  };
}
