/**
 * A backend whose "guest" is a TypeScript generator: it reads the PEB and
 * buffers in real guest memory and yields the exits a guest would cause, so
 * sandbox code runs end to end without a hypervisor — including guests that
 * break the protocol on purpose.
 */
import { Abi, PebOffset, Ports } from '../../src/abi/generated.js';
import { readSync } from 'node:fs';
import type {
  Backend, GuestRegion, MemorySnapshot, Registers, SpecialRegisters, VirtualMachine, VmExit,
} from '../../src/backend/backend.js';
import { GuestMemory } from '../../src/mem/guest-memory.js';
import { TimerCallGuard } from '../../src/backend/timer-call-guard.js';
import { encodeGuestFunctionDetails, encodeLogRecord, type GuestFunctionSignature, type LogRecord } from '../../src/protocol/codec.js';
import { GuestBinary } from '../../src/sandbox/guest-binary.js';
import { buildElf, minimalPie } from '../fixtures/elf-builder.js';

/** What a scripted guest sees: its memory, the PEB and protocol helpers. */
export class ScriptedGuestContext {
  readonly memory: GuestMemory;

  constructor(buffer: ArrayBuffer, readonly pebGpa: number, readonly op: number) {
    this.memory = new GuestMemory(buffer);
  }

  /** A PEB field. */
  peb(field: keyof typeof PebOffset): number {
    return Number(this.memory.readU64(this.pebGpa + PebOffset[field]));
  }

  /** The init data blob the PEB points to (empty when none). */
  initData(): Uint8Array {
    const size = this.peb('initDataSize');
    return size === 0 ? new Uint8Array() : this.memory.readBytes(this.peb('initDataGva'), size);
  }

  /** Writes a frame to the output buffer. */
  writeOutput(payload: Uint8Array): void {
    this.memory.writeU32(this.peb('outputGva'), payload.byteLength);
    this.memory.writeBytes(this.peb('outputGva') + Abi.FRAME_HEADER_SIZE, payload);
  }

  /** Appends a record to the log area as the guest libraries do (no level filtering). */
  appendLog(record: LogRecord): void {
    const area = this.peb('logGva');
    const used = this.memory.readU32(area);
    const payload = encodeLogRecord(record);
    const at = area + Abi.FRAME_HEADER_SIZE + used;
    this.memory.writeU32(at, payload.byteLength);
    this.memory.writeBytes(at + Abi.FRAME_HEADER_SIZE, payload);
    this.memory.writeU32(area, used + Math.ceil((Abi.FRAME_HEADER_SIZE + payload.byteLength) / 4) * 4);
  }

  /** The trace area the PEB points to (a live view). */
  traceArea(): Uint8Array {
    return this.memory.subarray(this.peb('traceGva'), this.peb('traceSize'));
  }

  /** Appends `bytes` after the trace area's `used` bytes and adds them to `used`, as the guest runtimes append records. */
  appendTrace(bytes: Uint8Array): void {
    const area = this.peb('traceGva');
    const used = this.memory.readU32(area + Abi.TRACE_OFFSET_USED);
    this.memory.writeBytes(area + Abi.TRACE_HEADER_SIZE + used, bytes);
    this.memory.writeU32(area + Abi.TRACE_OFFSET_USED, used + bytes.byteLength);
  }

  /** The exit of an `out` to `port`. */
  out(port: number, value = 0): VmExit {
    return { kind: 'io-out', port, size: 4, value };
  }

  /** Publishes `functions` and halts: a well-behaved initialisation. */
  *init(functions: readonly GuestFunctionSignature[]): Generator<VmExit, void, void> {
    this.writeOutput(encodeGuestFunctionDetails(functions));
    yield this.out(Ports.HALT);
  }
}

/** One guest entry: yields exits until the entry's work is done. */
export type ScriptedGuest = (context: ScriptedGuestContext) => Generator<VmExit, void, void>;

/** A memory snapshot held as a plain copy. */
export class CopiedMemorySnapshot implements MemorySnapshot {
  disposed = false;
  constructor(readonly bytes: Uint8Array) {}
  get size(): number {
    return this.bytes.byteLength;
  }
  read(offset: number, target: Uint8Array): void {
    if (this.disposed) throw new Error('disposed');
    if (offset < 0 || offset + target.byteLength > this.size) throw new RangeError('outside the snapshot');
    target.set(this.bytes.subarray(offset, offset + target.byteLength));
  }
  dispose(): void {
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

const SREGS = { tr: { type: 11 }, cr3: 0x1000n } as SpecialRegisters;

/** The TSC frequency every scripted VM reports, in Hz. */
export const SCRIPTED_TSC_FREQUENCY_HZ = 2_400_000_000;

/** A {@link TimerCallGuard} that records every `begin(timeoutMs)` argument in `timeouts`. */
export class ScriptedCallGuard extends TimerCallGuard {
  readonly timeouts: (number | undefined)[] = [];

  override begin(timeoutMs?: number): void {
    super.begin(timeoutMs);
    this.timeouts.push(timeoutMs);
  }
}

/** A VM running a {@link ScriptedGuest}; every entry (`run(regs)`) starts the script afresh. */
class ScriptedVm implements VirtualMachine {
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled = false;
  readonly tscFrequencyHz = SCRIPTED_TSC_FREQUENCY_HZ;
  readonly callGuard = new ScriptedCallGuard('kvm');
  private current: Generator<VmExit, void, void> | undefined;
  private regs = {} as Registers;
  private sregs = SREGS;
  /** Stand-in FPU state; byte 0 plays the guest-visible control word. */
  fpu = new Uint8Array(16);
  disposed = false;

  constructor(size: number, private readonly guest: ScriptedGuest, base?: MemorySnapshot) {
    this.memory = new ArrayBuffer(size);
    if (base) base.read(0, new Uint8Array(this.memory));
  }

  getSpecialRegisters(): SpecialRegisters {
    return this.sregs;
  }
  setSpecialRegisters(sregs: SpecialRegisters): void {
    this.sregs = sregs;
  }
  getRegisters(): Registers {
    return this.regs;
  }
  setRegisters(regs: Registers): void {
    this.regs = regs;
  }
  getFpuState(): Uint8Array {
    return this.fpu.slice();
  }
  setFpuState(state: Uint8Array): void {
    this.fpu = state.slice();
  }
  snapshotMemory(): MemorySnapshot {
    return new CopiedMemorySnapshot(new Uint8Array(this.memory).slice());
  }
  restoreMemory(snapshot: MemorySnapshot): void {
    snapshot.read(0, new Uint8Array(this.memory));
  }
  privatePageCount(): number {
    return 0;
  }
  mapRegion(): GuestRegion {
    throw new Error('scripted VMs have main memory only');
  }

  /** Every run, as `'sync'` or `'async'`. */
  readonly runs: ('sync' | 'async')[] = [];

  run(regs?: Registers): VmExit {
    this.runs.push('sync');
    return this.step(regs);
  }

  /** A step of the script after a turn of the event loop (so timers and other tasks run between exits). */
  async runAsync(regs?: Registers): Promise<VmExit> {
    this.runs.push('async');
    await new Promise((resolve) => setImmediate(resolve));
    return this.step(regs);
  }

  private step(regs?: Registers): VmExit {
    if (this.callGuard.cancelReason !== undefined) return { kind: 'cancelled' };
    if (regs) {
      this.regs = regs;
      this.current = this.guest(new ScriptedGuestContext(this.memory, Number(regs.rdi), Number(regs.rsi)));
    }
    const next = this.current?.next();
    if (!next || next.done) throw new Error('scripted guest ended without halting');
    return next.value;
  }

  dispose(): void {
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** A backend whose VMs run `guest`; `vms` lists every VM it created. */
export function scriptedBackend(guest: ScriptedGuest): Backend & { readonly vms: ScriptedVm[] } {
  const vms: ScriptedVm[] = [];
  return {
    name: 'kvm',
    vms,
    check: () => ({ usable: true, detail: 'scripted' }),
    createVm: ({ memorySize, memory }) => {
      const vm = new ScriptedVm(memorySize, guest, memory);
      vms.push(vm);
      return vm;
    },
    cancelCall: (token, reason) => vms.find((vm) => vm.callGuard.token.id === token.id)?.callGuard.cancel(reason) ?? false,
    mapSnapshotFile: ({ fd }, offset, size) => {
      const bytes = new Uint8Array(size);
      readSync(fd, bytes, 0, size, offset);
      return new CopiedMemorySnapshot(bytes);
    },
  };
}

/** A loadable stand-in binary: the scripted guest ignores its code. */
export function placeholderBinary(): GuestBinary {
  return GuestBinary.fromBytes(buildElf(minimalPie()));
}
