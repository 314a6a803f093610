import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ports } from '../../src/abi/generated.js';
import {
  GuestUnknownPortError, PoisonedSandboxError, SandboxStateError, SnapshotDisposedError, SnapshotMismatchError, type SnapshotMismatchReason,
} from '../../src/errors.js';
import { decodeFunctionCall, encodeFunctionCall, encodeFunctionCallResult } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import { GuestBinary } from '../../src/sandbox/guest-binary.js';
import { hostFunction } from '../../src/sandbox/host-functions.js';
import { MultiUseSandbox } from '../../src/sandbox/multi-use-sandbox.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { Snapshot } from '../../src/snapshot/snapshot.js';
import { buildElf, minimalPie } from '../fixtures/elf-builder.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuest } from '../support/scripted-backend.js';

/**
 * `Increment() -> i32` keeps a counter in the first heap word; `AddViaHost(i32) -> i32`
 * returns `HostAdd(counter, x)`; `Crash()` writes to an unknown port (poisons).
 * After the first initialisation the guest publishes one more function, so a
 * restored function table is distinguishable from a re-initialised one.
 */
function counterGuest(): ScriptedGuest {
  let inits = 0;
  return function* (ctx) {
    if (ctx.op === 0) {
      inits++;
      const functions = [
        { name: 'Increment', parameters: [], returnType: 'i32' as const },
        { name: 'AddViaHost', parameters: ['i32' as const], returnType: 'i32' as const },
        { name: 'Crash', parameters: [], returnType: 'void' as const },
      ];
      return yield* ctx.init(inits === 1 ? functions : [...functions, { name: 'Later', parameters: [], returnType: 'void' }]);
    }
    const input = ctx.peb('inputGva');
    const call = decodeFunctionCall(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
    const counter = ctx.peb('heapGva');
    let value = ctx.memory.readU32(counter);
    if (call.functionName === 'Crash') {
      yield ctx.out(0x99);
      return;
    }
    if (call.functionName === 'Increment') ctx.memory.writeU32(counter, ++value);
    if (call.functionName === 'AddViaHost') {
      ctx.writeOutput(encodeFunctionCall({
        functionName: 'HostAdd', args: [{ type: 'i32', value }, call.args[0]!] as never, returnType: 'i32',
      }));
      yield ctx.out(Ports.CALL_HOST);
      const reply = ctx.memory.readBytes(input + 4, ctx.memory.readU32(input));
      ctx.writeOutput(reply);
      yield ctx.out(Ports.HALT);
      return;
    }
    ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'i32', value } }));
    yield ctx.out(Ports.HALT);
  };
}

const hostFunctions = { HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b) };

function evolve(config: SandboxConfiguration = {}, binary: GuestBinary = placeholderBinary()) {
  const backend = scriptedBackend(counterGuest());
  const sandbox = UninitializedSandbox.create(binary, { ...config, backend })
    .register('HostAdd', hostFunctions.HostAdd.signature, hostFunctions.HostAdd.fn)
    .evolve();
  return { sandbox, backend };
}

function mismatch(fn: () => unknown): SnapshotMismatchReason {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotMismatchError);
    return (error as SnapshotMismatchError).reason;
  }
  throw new Error('expected a SnapshotMismatchError');
}

describe('snapshot() and restore()', () => {
  it('restore puts memory back: state written after the snapshot is gone, every time', () => {
    const { sandbox } = evolve();
    sandbox.call('Increment', 'i32');
    const snapshot = sandbox.snapshot();
    for (let round = 0; round < 3; round++) {
      expect(sandbox.call('Increment', 'i32')).toBe(2);
      expect(sandbox.call('Increment', 'i32')).toBe(3);
      sandbox.restore(snapshot);
    }
  });

  it('restore puts back the FPU state, registers and special registers, keeping the TSS type this VM needs', () => {
    const { sandbox, backend } = evolve();
    const vm = backend.vms[0]!;
    vm.fpu[0] = 0x37;
    const sregs = vm.getSpecialRegisters();
    const snapshot = sandbox.snapshot();
    vm.fpu[0] = 0x7f;
    vm.setSpecialRegisters({ ...sregs, cr3: 0xdead000n, tr: { ...sregs.tr, type: 9 } });
    sandbox.restore(snapshot);
    expect(vm.fpu[0]).toBe(0x37);
    expect(vm.getSpecialRegisters().cr3).toBe(sregs.cr3);
    expect(vm.getSpecialRegisters().tr.type).toBe(11);
  });

  it('restore clears poison and brings back the snapshot\'s function table', () => {
    const { sandbox } = evolve();
    const snapshot = sandbox.snapshot();
    expect(() => sandbox.call('Crash', 'void')).toThrow(GuestUnknownPortError);
    expect(sandbox.poisoned).toBe(true);
    expect(() => sandbox.snapshot()).toThrow(PoisonedSandboxError);
    sandbox.restore(snapshot);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect([...sandbox.guestFunctions.keys()]).toEqual(['Increment', 'AddViaHost', 'Crash']);
  });

  it('a snapshot of one sandbox restores another of the same binary and configuration', () => {
    const binary = placeholderBinary();
    const { sandbox: a } = evolve({}, binary);
    a.call('Increment', 'i32');
    a.call('Increment', 'i32');
    const snapshot = a.snapshot();
    const { sandbox: b } = evolve({}, GuestBinary.fromBytes(binary.bytes));
    b.restore(snapshot);
    expect(b.call('Increment', 'i32')).toBe(3);
  });

  it('refuses a snapshot of another binary or memory layout', () => {
    const elf = buildElf(minimalPie());
    const { sandbox: a } = evolve({}, GuestBinary.fromBytes(elf));
    const snapshot = a.snapshot();
    const other = GuestBinary.fromBytes(Uint8Array.from([...elf, 0]));
    expect(mismatch(() => evolve({}, other).sandbox.restore(snapshot))).toBe('binary');
    expect(mismatch(() => evolve({ heapSize: 2 << 20 }, GuestBinary.fromBytes(elf)).sandbox.restore(snapshot))).toBe('layout');
    expect(mismatch(() => evolve({ maxLogLevel: 'warn' }, GuestBinary.fromBytes(elf)).sandbox.restore(snapshot))).toBe('configuration');
    expect(mismatch(() => evolve({ initData: Uint8Array.of(1) }, GuestBinary.fromBytes(elf)).sandbox.restore(snapshot))).toBe('layout');
  });

  it('refuses a snapshot that needs host functions the sandbox lacks', () => {
    const { sandbox: a } = evolve();
    const snapshot = a.snapshot();
    const b = UninitializedSandbox.create(placeholderBinary(), { backend: scriptedBackend(counterGuest()) }).evolve();
    expect(mismatch(() => b.restore(snapshot))).toBe('host-functions');
  });

  it('disposed snapshots and sandboxes fail with typed errors', () => {
    const { sandbox } = evolve();
    const snapshot = sandbox.snapshot();
    snapshot.dispose();
    snapshot.dispose();
    expect(snapshot.disposed).toBe(true);
    expect(() => sandbox.restore(snapshot)).toThrow(SnapshotDisposedError);
    expect(() => MultiUseSandbox.fromSnapshot(snapshot)).toThrow(SnapshotDisposedError);
    expect(() => snapshot.memorySize).toThrow(SnapshotDisposedError);
    const live = sandbox.snapshot();
    sandbox.dispose();
    expect(() => sandbox.snapshot()).toThrow(SandboxStateError);
    expect(() => sandbox.restore(live)).toThrow(SandboxStateError);
  });
});

describe('MultiUseSandbox.fromSnapshot()', () => {
  it('starts from the snapshot without initialising the guest, and sandboxes do not share writes', () => {
    const { sandbox, backend } = evolve();
    sandbox.call('Increment', 'i32');
    using snapshot = sandbox.snapshot();
    const copies = Array.from({ length: 3 }, () => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions }));
    expect(backend.vms).toHaveLength(4);
    expect(copies.map((c) => c.call('Increment', 'i32'))).toEqual([2, 2, 2]);
    expect(copies[0]!.call('Increment', 'i32')).toBe(3);
    expect(copies[1]!.call('AddViaHost', 'i32', 40)).toBe(42);
    expect([...copies[2]!.guestFunctions.keys()]).toEqual(['Increment', 'AddViaHost', 'Crash']);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
  });

  it('keeps working after the snapshot is disposed', () => {
    const { sandbox } = evolve();
    const snapshot = sandbox.snapshot();
    const copy = MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions });
    snapshot.dispose();
    expect(copy.call('Increment', 'i32')).toBe(1);
  });

  it('refuses host functions that do not cover the snapshot\'s, and a different configuration', () => {
    const { sandbox } = evolve({ heapSize: 1 << 20 });
    const snapshot = sandbox.snapshot();
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot))).toBe('host-functions');
    const wrong = { HostAdd: hostFunction({ params: ['i32'], returns: 'i32' }, (a) => a) };
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: wrong }))).toBe('host-functions');
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions, heapSize: 2 << 20 }))).toBe('configuration');
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions, maxLogLevel: 'error' }))).toBe('configuration');
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions, initData: Uint8Array.of(7) }))).toBe('configuration');
    expect(mismatch(() => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions, backend: 'whp' }))).toBe('backend');
    // Matching values and extra host functions are fine.
    const extra = { ...hostFunctions, Other: hostFunction({ params: [], returns: 'void' }, () => undefined) };
    expect(MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: extra, heapSize: 1 << 20 }).call('Increment', 'i32')).toBe(1);
  });
});

describe('Snapshot.save() and Snapshot.load()', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hl-snapshot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips through a file into a new sandbox and into an existing one', () => {
    const { sandbox, backend } = evolve();
    sandbox.call('Increment', 'i32');
    const path = join(dir, 'counter.hlsnap');
    sandbox.snapshot().save(path);
    expect(readdirSync(dir)).toEqual(['counter.hlsnap']);
    using loaded = Snapshot.load(path, { backend });
    expect(loaded.memorySize).toBe(backend.vms[0]!.memory.byteLength);
    const copy = MultiUseSandbox.fromSnapshot(loaded, { hostFunctions });
    expect(copy.call('Increment', 'i32')).toBe(2);
    sandbox.call('Increment', 'i32');
    sandbox.restore(loaded);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
  });

  it('refuses a file written by another backend', () => {
    const { sandbox } = evolve();
    const path = join(dir, 'kvm.hlsnap');
    sandbox.snapshot().save(path);
    const whp = { ...scriptedBackend(counterGuest()), name: 'whp' as const };
    expect(mismatch(() => Snapshot.load(path, { backend: whp }))).toBe('backend');
  });
});
