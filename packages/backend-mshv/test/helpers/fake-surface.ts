/**
 * A recording stand-in for the addon's ioctl surface: every call is logged
 * with a copy of its argument bytes, hypercalls are answered from a register
 * file and property table, runs replay queued hv_messages, and any operation
 * can be made to fail with an errno (and HV status).
 */
import type {
  GuestMemory, MshvDevice, MshvPartition, MshvSurface, MshvVp, PointerArg, SnapshotMemory,
} from '../../src/mshv-ioctls.js';
import { HV_INPUT, HVCALL, HVMSG, MSHV_IOCTL, REGISTER_PAGE, ROOT_HVCALL, USER_MEM_REGION, VP_STATE } from '../../src/mshv-abi.js';

/** One logged call. */
export interface Call {
  readonly fd: 'device' | 'partition' | 'vp' | 'surface';
  readonly op: string;
  readonly request?: number;
  readonly arg?: Uint8Array;
  /** Copies of the pointer buffers as passed in. */
  readonly pointers?: Uint8Array[];
  /** For hypercalls: the code. */
  readonly hvcall?: number;
  readonly detail?: unknown;
}

/** A failure to inject: the next call of `op` (and, for hypercalls, `hvcall`) throws. */
export interface Failure {
  readonly op: string;
  readonly hvcall?: number;
  readonly code: string;
  readonly errno: number;
  readonly hvStatus?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

/** What a queued run does. */
export type RunStep = { message: Uint8Array; pageValid?: boolean } | 'eintr' | { error: string; errno: number } | { cancel: number };

/** The fake host address every GuestMemory reports (page aligned, distinct per memory). */
let nextAddress = 0x7f00_0000_0000n;

export class FakeSnapshot implements SnapshotMemory {
  disposed = false;
  constructor(readonly size: number, readonly bytes = new Uint8Array(size)) {}
  read(offset: number, target: Uint8Array): void { target.set(this.bytes.subarray(offset, offset + target.byteLength)); }
  dispose(): void { this.disposed = true; }
  [Symbol.dispose](): void { this.dispose(); }
}

export class FakeGuestMemory implements GuestMemory {
  buffer: ArrayBuffer;
  readonly address: bigint;
  disposed = false;
  constructor(readonly memorySize: number, readonly log: Call[], readonly source?: SnapshotMemory) {
    this.buffer = new ArrayBuffer(memorySize);
    this.address = nextAddress;
    nextAddress += BigInt(memorySize) + 0x1000n;
  }
  snapshot(): SnapshotMemory {
    this.log.push({ fd: 'surface', op: 'snapshot', detail: this.memorySize });
    return new FakeSnapshot(this.memorySize, new Uint8Array(this.buffer).slice());
  }
  restore(snapshot: SnapshotMemory): void {
    this.log.push({ fd: 'surface', op: 'restore', detail: snapshot });
    new Uint8Array(this.buffer).set((snapshot as FakeSnapshot).bytes);
  }
  privatePageCount(): number { return 3; }
  dispose(): void { this.disposed = true; this.log.push({ fd: 'surface', op: 'memory.dispose', detail: this.memorySize }); }
  [Symbol.dispose](): void { this.dispose(); }
}

function systemError(code: string, errno: number): Error {
  return Object.assign(new Error(`${code}: fake failure`), { code, errno: -errno, syscall: 'ioctl' });
}

export class FakeSurface implements MshvSurface {
  readonly log: Call[] = [];
  readonly failures: Failure[] = [];
  /** Register file of the VP, by hypervisor register name. */
  readonly registers = new Map<number, Uint8Array>();
  /** Partition properties answered by GET_PARTITION_PROPERTY. */
  readonly properties = new Map<number, bigint>();
  readonly runs: RunStep[] = [];
  /** Size the fake kernel wants for XSAVE (EINVAL with buf_sz when a buffer is smaller). */
  xsaveBytes = 4096;
  /** Whether the VP offers a register page. */
  registerPage = true;
  openError: Failure | undefined;
  vp: FakeVp | undefined;
  readonly memories: FakeGuestMemory[] = [];

  openDevice(path: string): MshvDevice {
    this.log.push({ fd: 'surface', op: 'open', detail: path });
    if (this.openError !== undefined) throw Object.assign(systemError(this.openError.code, this.openError.errno), { syscall: 'open', path });
    return new FakeDevice(this);
  }
  createGuestMemory(memorySize: number, snapshot?: SnapshotMemory): GuestMemory {
    this.log.push({ fd: 'surface', op: 'createGuestMemory', detail: memorySize });
    const memory = new FakeGuestMemory(memorySize, this.log, snapshot);
    this.memories.push(memory);
    return memory;
  }
  isSnapshot(value: unknown): value is SnapshotMemory { return value instanceof FakeSnapshot; }
  mapSnapshotFile(fd: number, offset: number, size: number): SnapshotMemory {
    this.log.push({ fd: 'surface', op: 'mapSnapshotFile', detail: [fd, offset, size] });
    this.fail('mapSnapshotFile');
    return new FakeSnapshot(size);
  }
  cancelCall(id: number, reasonCode: number): boolean {
    return this.vp !== undefined && this.vp.cancelId === id && this.vp.cancel(reasonCode);
  }

  /** Throws the first matching injected failure. */
  fail(op: string, hvcall?: number, arg?: Uint8Array): void {
    const index = this.failures.findIndex((f) => f.op === op && (f.hvcall === undefined || f.hvcall === hvcall));
    if (index < 0) return;
    const failure = this.failures[index]!;
    failure.times = (failure.times ?? 1) - 1;
    if (failure.times <= 0) this.failures.splice(index, 1);
    if (arg !== undefined && failure.hvStatus !== undefined) new DataView(arg.buffer, arg.byteOffset).setUint16(ROOT_HVCALL.status, failure.hvStatus, true);
    throw systemError(failure.code, failure.errno);
  }

  /** Calls of `op` in the log. */
  calls(op: string): Call[] { return this.log.filter((call) => call.op === op); }
  /** Hypercalls `code` in the log. */
  hvcalls(code: number): Call[] { return this.log.filter((call) => call.hvcall === code); }

  /** The generic ioctl of every fake fd. */
  ioctl(fd: Call['fd'], request: number, arg: Uint8Array | undefined, pointers: readonly PointerArg[] = []): number {
    const hvcall = request === MSHV_IOCTL.MSHV_ROOT_HVCALL && arg !== undefined ? new DataView(arg.buffer, arg.byteOffset).getUint16(ROOT_HVCALL.code, true) : undefined;
    const op = Object.entries(MSHV_IOCTL).find(([, value]) => value === request)?.[0] ?? `ioctl 0x${request.toString(16)}`;
    this.log.push({ fd, op, request, ...(arg === undefined ? {} : { arg: arg.slice() }), pointers: pointers.map((p) => p.data.slice()), ...(hvcall === undefined ? {} : { hvcall }) });
    this.fail(op, hvcall, arg);
    if (hvcall !== undefined) this.answerHvcall(hvcall, arg!, pointers);
    if (request === MSHV_IOCTL.MSHV_GET_VP_STATE) {
      const view = new DataView(arg!.buffer, arg!.byteOffset);
      if (view.getUint32(VP_STATE.bufSize, true) < this.xsaveBytes) {
        view.setUint32(VP_STATE.bufSize, this.xsaveBytes, true);
        throw systemError('EINVAL', 22);
      }
      const data = pointers[0]!.data;
      data.fill(0xcc);
      new DataView(data.buffer, data.byteOffset).setBigUint64(520, 0x8000_0000_0000_0007n, true); // XCOMP_BV
    }
    return 0;
  }

  private answerHvcall(code: number, arg: Uint8Array, pointers: readonly PointerArg[]): void {
    const input = pointers[0]!.data;
    const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
    const reps = new DataView(arg.buffer, arg.byteOffset).getUint16(ROOT_HVCALL.reps, true);
    if (code === HVCALL.SET_VP_REGISTERS) {
      for (let i = 0; i < reps; i++) {
        const at = HV_INPUT.vpRegistersHeader + HV_INPUT.assocSize * i;
        this.registers.set(view.getUint32(at, true), input.slice(at + HV_INPUT.assocValue, at + HV_INPUT.assocValue + 16));
      }
    } else if (code === HVCALL.GET_VP_REGISTERS) {
      const output = pointers[1]!.data;
      for (let i = 0; i < reps; i++) {
        const name = view.getUint32(HV_INPUT.vpRegistersHeader + 4 * i, true);
        output.set(this.registers.get(name) ?? new Uint8Array(16), 16 * i);
      }
    } else if (code === HVCALL.GET_PARTITION_PROPERTY) {
      const value = this.properties.get(view.getUint32(HV_INPUT.propertyCode, true));
      if (value === undefined) {
        new DataView(arg.buffer, arg.byteOffset).setUint16(ROOT_HVCALL.status, 0x9, true);
        throw systemError('EINVAL', 22);
      }
      new DataView(pointers[1]!.data.buffer, pointers[1]!.data.byteOffset).setBigUint64(0, value, true);
    } else if (code === HVCALL.SET_PARTITION_PROPERTY) {
      this.properties.set(view.getUint32(HV_INPUT.propertyCode, true), view.getBigUint64(HV_INPUT.propertyValue, true));
    }
  }
}

class FakeFd {
  disposed = false;
  constructor(readonly surface: FakeSurface, readonly kind: Call['fd']) {}
  ioctl(request: number, arg?: Uint8Array, pointers?: readonly PointerArg[]): number {
    if (this.disposed) throw new Error(`${this.kind} used after dispose`);
    return this.surface.ioctl(this.kind, request, arg, pointers);
  }
  dispose(): void {
    if (!this.disposed) this.surface.log.push({ fd: this.kind, op: 'close' });
    this.disposed = true;
  }
  [Symbol.dispose](): void { this.dispose(); }
}

class FakeDevice extends FakeFd implements MshvDevice {
  constructor(surface: FakeSurface) { super(surface, 'device'); }
  createPartition(arg: Uint8Array): MshvPartition {
    this.surface.log.push({ fd: 'device', op: 'MSHV_CREATE_PARTITION', request: MSHV_IOCTL.MSHV_CREATE_PARTITION, arg: arg.slice() });
    this.surface.fail('MSHV_CREATE_PARTITION');
    return new FakePartition(this.surface);
  }
}

class FakePartition extends FakeFd implements MshvPartition {
  constructor(surface: FakeSurface) { super(surface, 'partition'); }
  createVp(arg: Uint8Array, options?: { readonly workerThread?: boolean }): MshvVp {
    this.surface.log.push({ fd: 'partition', op: 'MSHV_CREATE_VP', request: MSHV_IOCTL.MSHV_CREATE_VP, arg: arg.slice(), detail: options });
    this.surface.fail('MSHV_CREATE_VP');
    this.surface.vp = new FakeVp(this.surface);
    return this.surface.vp;
  }
  setGuestMemory(arg: Uint8Array, memory: GuestMemory): void {
    const filled = arg.slice();
    new DataView(filled.buffer).setBigUint64(USER_MEM_REGION.userspaceAddr, (memory as FakeGuestMemory).address, true);
    this.surface.log.push({ fd: 'partition', op: 'MSHV_SET_GUEST_MEMORY', request: MSHV_IOCTL.MSHV_SET_GUEST_MEMORY, arg: filled, detail: memory });
    this.surface.fail('MSHV_SET_GUEST_MEMORY');
  }
}

let nextCancelId = 1;

export class FakeVp extends FakeFd implements MshvVp {
  readonly message = new ArrayBuffer(256);
  readonly registerPage: ArrayBuffer | null;
  readonly callState = new ArrayBuffer(4);
  readonly cancelId = nextCancelId++;
  constructor(surface: FakeSurface) {
    super(surface, 'vp');
    this.registerPage = surface.registerPage ? new ArrayBuffer(4096) : null;
  }
  run(): number {
    this.surface.log.push({ fd: 'vp', op: 'MSHV_RUN_VP' });
    const step = this.surface.runs.shift();
    if (step === undefined) throw new Error('fake: no run queued');
    if (step === 'eintr') return HVMSG.NONE;
    if ('error' in step) throw systemError(step.error, step.errno);
    if ('cancel' in step) { this.cancel(step.cancel); return HVMSG.NONE; }
    new Uint8Array(this.message).set(step.message);
    if (this.registerPage !== null) new DataView(this.registerPage).setUint8(REGISTER_PAGE.isValid, step.pageValid === true ? 1 : 0);
    return new DataView(this.message).getUint32(0, true);
  }
  runAsync(done: (error: Error | null, messageType: number) => void): void {
    setImmediate(() => {
      try { done(null, this.run()); } catch (error) { done(error as Error, HVMSG.NONE); }
    });
  }
  cancel(reasonCode: number): boolean {
    const word = new Uint32Array(this.callState);
    const value = Atomics.load(word, 0);
    if ((value & 1) === 0 || (value & 0xe) !== 0) return false;
    Atomics.store(word, 0, value | (reasonCode << 1));
    return true;
  }
  armTimeout(): void {}
  setCancelListener(): void {}
}
