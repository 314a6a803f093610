/**
 * A backend whose "guest" is a TypeScript generator: it reads the PEB and
 * buffers in real guest memory and yields the exits a guest would cause, so
 * sandbox code runs end to end without a hypervisor — including guests that
 * break the protocol on purpose.
 */
import { Abi, PebOffset, Ports } from '../../src/abi/generated.js';
import type { Backend, Registers, SpecialRegisters, VirtualMachine, VmExit } from '../../src/backend/backend.js';
import { GuestMemory } from '../../src/mem/guest-memory.js';
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

const NO_SREGS = {} as SpecialRegisters;

/** A VM running a {@link ScriptedGuest}; every entry (`run(regs)`) starts the script afresh. */
class ScriptedVm implements VirtualMachine {
  readonly memory: ArrayBuffer;
  readonly xsaveEnabled = false;
  private current: Generator<VmExit, void, void> | undefined;
  private regs = {} as Registers;
  disposed = false;

  constructor(size: number, private readonly guest: ScriptedGuest) {
    this.memory = new ArrayBuffer(size);
  }

  getSpecialRegisters(): SpecialRegisters {
    return NO_SREGS;
  }
  setSpecialRegisters(): void {}
  getRegisters(): Registers {
    return this.regs;
  }
  setRegisters(regs: Registers): void {
    this.regs = regs;
  }
  resetFpu(): void {}

  run(regs?: Registers): VmExit {
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
    createVm: ({ memorySize }) => {
      const vm = new ScriptedVm(memorySize, guest);
      vms.push(vm);
      return vm;
    },
  };
}

/** A loadable stand-in binary: the scripted guest ignores its code. */
export function placeholderBinary(): GuestBinary {
  return GuestBinary.fromBytes(buildElf(minimalPie()));
}
