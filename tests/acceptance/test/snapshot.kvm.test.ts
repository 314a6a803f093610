import { expect, it } from 'vitest';
import {
  GuestAbortedError, GuestExceptionError, GuestOutOfMemoryError, GuestPanicError, GuestProtocolError, GuestStackOverflowError,
  MultiUseSandbox, PoisonedSandboxError, SandboxStateError, SnapshotDisposedError, type HyperlightError, type Snapshot,
  type ValueTypeName,
} from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox, TEST_HOST_FUNCTIONS } from './support/guests.js';
import { copyGuestMemory, describePages, differingPages, guestMemoryDigest, vcpuFpuControl } from './support/internals.js';
import { thrown, thrownAs } from './support/thrown.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Calls `OverwriteMemory(byte)`, which may end in any error, and checks that it really changed guest memory. */
function overwriteMemory(sandbox: MultiUseSandbox, byte: number, before: Uint8Array): void {
  try {
    sandbox.call('OverwriteMemory', 'void', byte);
  } catch {
    // Expected: the guest wrecks its own runtime state and ends the run however it can.
  }
  // The heap alone is 256 pages; anything much smaller means the guest did not do its job.
  expect(differingPages(sandbox, before).length).toBeGreaterThan(256);
}

/** Guest memory equals `expected` byte for byte. */
function expectMemory(sandbox: MultiUseSandbox, expected: Uint8Array): void {
  const pages = differingPages(sandbox, expected);
  expect(pages, `pages that differ: ${describePages(pages)}`).toEqual([]);
}

forEachGuest('restore() resets guest state', (language) => {
  it('statics: Increment and a 1 MiB .bss array count on from the snapshot again', () => {
    using sandbox = simpleSandbox(language);
    for (let i = 1; i <= 3; i++) expect(sandbox.call('Increment', 'i32')).toBe(i);
    expect(sandbox.call('SetStatic', 'u32')).toBe(1);
    using snapshot = sandbox.snapshot();
    expect(sandbox.call('Increment', 'i32')).toBe(4);
    expect(sandbox.call('Increment', 'i32')).toBe(5);
    expect(sandbox.call('SetStatic', 'u32')).toBe(2);
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(4);
    expect(sandbox.call('SetStatic', 'u32')).toBe(2);
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(4);
  });

  it('the heap: allocations made after the snapshot are gone and their addresses are handed out again', () => {
    using sandbox = simpleSandbox(language);
    const before = sandbox.call('HeapAllocate', 'u64', 100);
    using snapshot = sandbox.snapshot();
    const first = sandbox.call('HeapAllocate', 'u64', 256);
    const second = sandbox.call('HeapAllocate', 'u64', 256);
    expect(first).not.toBe(before);
    expect(second).not.toBe(first);
    sandbox.restore(snapshot);
    expect(sandbox.call('HeapAllocate', 'u64', 256)).toBe(first);
    // Most of the 1 MiB heap, again and again: only fits because restore gives the block back.
    sandbox.restore(snapshot);
    const big = sandbox.call('HeapAllocate', 'u64', 600 * KIB);
    for (let i = 0; i < 3; i++) {
      sandbox.restore(snapshot);
      expect(sandbox.call('HeapAllocate', 'u64', 600 * KIB)).toBe(big);
    }
    expect(sandbox.poisoned).toBe(false);
  });

  it('the stack: a marker written after the snapshot reads as it was at the snapshot', () => {
    using sandbox = simpleSandbox(language);
    sandbox.call('WriteStackMarker', 'void', 0x1111_2222_3333_4444n);
    using snapshot = sandbox.snapshot();
    sandbox.call('WriteStackMarker', 'void', 0xdead_beef_cafe_f00dn);
    expect(sandbox.call('ReadStackMarker', 'u64')).toBe(0xdead_beef_cafe_f00dn);
    sandbox.restore(snapshot);
    expect(sandbox.call('ReadStackMarker', 'u64')).toBe(0x1111_2222_3333_4444n);
  });

  it('registers: data segment selectors the guest loaded go back to the snapshot\'s', () => {
    using sandbox = simpleSandbox(language);
    const initial = sandbox.call('GetDataSelectors', 'u32');
    expect(initial).toBe(0x001b_001b);
    using atInitial = sandbox.snapshot();
    // A null selector and the ring-3 data selector are both valid at CPL3.
    const other = (initial & 0xffff) === 0 ? 0x1b : 0;
    sandbox.call('SetDataSelectors', 'void', other);
    expect(sandbox.call('GetDataSelectors', 'u32')).toBe(other | (other << 16));
    using atOther = sandbox.snapshot();
    sandbox.call('SetDataSelectors', 'void', initial & 0xffff);
    sandbox.restore(atOther);
    expect(sandbox.call('GetDataSelectors', 'u32')).toBe(other | (other << 16));
    sandbox.restore(atInitial);
    expect(sandbox.call('GetDataSelectors', 'u32')).toBe(initial);
    using copy = MultiUseSandbox.fromSnapshot(atOther, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(copy.call('GetDataSelectors', 'u32')).toBe(other | (other << 16));
  });

  it('FPU and SSE state: MXCSR and the x87 control word go back to the snapshot\'s', () => {
    using sandbox = simpleSandbox(language);
    const control = (s: MultiUseSandbox): { mxcsr: number; fcw: number } => ({
      mxcsr: s.call('GetMxcsr', 'u32'),
      fcw: s.call('GetFpuControlWord', 'u32'),
    });
    expect(control(sandbox)).toEqual({ mxcsr: 0x1f80, fcw: 0x37f });
    // Not the power-on defaults, so restoring cannot pass by resetting the FPU.
    sandbox.call('SetMxcsr', 'void', 0x7f80); // round toward zero
    sandbox.call('SetFpuControlWord', 'void', 0x27f); // double precision
    expect(control(sandbox)).toEqual({ mxcsr: 0x7f80, fcw: 0x27f });
    using snapshot = sandbox.snapshot();
    sandbox.call('SetMxcsr', 'void', 0x3f80); // round down
    sandbox.call('SetFpuControlWord', 'void', 0xf7f); // truncate, extended precision
    expect(control(sandbox)).toEqual({ mxcsr: 0x3f80, fcw: 0xf7f });
    expect(vcpuFpuControl(sandbox)).toEqual({ mxcsr: 0x3f80, fcw: 0xf7f });
    sandbox.restore(snapshot);
    // The vCPU itself, before any guest code runs, and then as the guest sees it.
    expect(vcpuFpuControl(sandbox)).toEqual({ mxcsr: 0x7f80, fcw: 0x27f });
    expect(control(sandbox)).toEqual({ mxcsr: 0x7f80, fcw: 0x27f });
    // A sandbox made from the snapshot starts with its FPU state too.
    using copy = MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(vcpuFpuControl(copy)).toEqual({ mxcsr: 0x7f80, fcw: 0x27f });
    expect(control(copy)).toEqual({ mxcsr: 0x7f80, fcw: 0x27f });
  });

  it('guest memory is byte-identical to the snapshot after the guest overwrote every page it can write', () => {
    using sandbox = simpleSandbox(language);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    using snapshot = sandbox.snapshot();
    const atSnapshot = copyGuestMemory(sandbox);
    const digest = guestMemoryDigest(sandbox);

    overwriteMemory(sandbox, 0xa5, atSnapshot);
    expect(guestMemoryDigest(sandbox)).not.toBe(digest);
    sandbox.restore(snapshot);
    expectMemory(sandbox, atSnapshot);
    expect(guestMemoryDigest(sandbox)).toBe(digest);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(2);

    // Again: the sandbox already runs over this snapshot.
    overwriteMemory(sandbox, 0x5a, atSnapshot);
    sandbox.restore(snapshot);
    expect(guestMemoryDigest(sandbox)).toBe(digest);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
    expect(sandbox.call('Increment', 'i32')).toBe(3);

    // A snapshot taken later, then back and forth between the two.
    using later = sandbox.snapshot();
    const atLater = copyGuestMemory(sandbox);
    overwriteMemory(sandbox, 0xff, atLater);
    sandbox.restore(later);
    expectMemory(sandbox, atLater);
    sandbox.restore(snapshot);
    expectMemory(sandbox, atSnapshot);
    overwriteMemory(sandbox, 0x3c, atSnapshot);
    sandbox.restore(later);
    expectMemory(sandbox, atLater);
    expect(sandbox.call('Increment', 'i32')).toBe(4);
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(2);
  });

  it('the same snapshot restored 1000 times in a row gives the same result every time', () => {
    using sandbox = simpleSandbox(language);
    using snapshot = sandbox.snapshot();
    const digest = guestMemoryDigest(sandbox);
    const results = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      sandbox.restore(snapshot);
      results.add(sandbox.call('Increment', 'i32'));
    }
    expect([...results]).toEqual([1]);
    sandbox.restore(snapshot);
    expect(guestMemoryDigest(sandbox)).toBe(digest);
  });
});

/** A call that poisons: a label, the error class, and the call. */
interface PoisoningCall {
  readonly what: string;
  readonly type: abstract new (...args: never[]) => HyperlightError;
  readonly name: string;
  readonly returns: ValueTypeName;
  readonly args: readonly unknown[];
}

const POISONING_CALLS: readonly PoisoningCall[] = [
  { what: 'a panic', type: GuestPanicError, name: 'Panic', returns: 'void', args: ['snapshot test'] },
  { what: 'an abort', type: GuestAbortedError, name: 'Abort', returns: 'void', args: [77, 'snapshot test'] },
  { what: 'a CPU exception (#UD)', type: GuestExceptionError, name: 'Ud2', returns: 'void', args: [] },
  { what: 'a stack overflow', type: GuestStackOverflowError, name: 'StackOverflow', returns: 'void', args: [7] },
  { what: 'a protocol violation', type: GuestProtocolError, name: 'HaltWithGarbage', returns: 'void', args: [] },
  { what: 'running out of heap', type: GuestOutOfMemoryError, name: 'AllocateBytes', returns: 'u32', args: [2 * MIB] },
];

forEachGuest('restore() after a poisoning error', (language) => {
  for (const { what, type, name, returns, args } of POISONING_CALLS) {
    it(`${what} (${name}): the sandbox is usable again, in the snapshot's state`, () => {
      using sandbox = simpleSandbox(language);
      expect(sandbox.call('Increment', 'i32')).toBe(1);
      expect(sandbox.call('Increment', 'i32')).toBe(2);
      using snapshot = sandbox.snapshot();
      const digest = guestMemoryDigest(sandbox);
      expect(sandbox.call('Increment', 'i32')).toBe(3);

      const error = thrownAs(type, () => sandbox.call(name, returns, ...args));
      expect(sandbox.poisoned).toBe(true);
      expect(thrownAs(PoisonedSandboxError, () => sandbox.call('Increment', 'i32')).cause).toBe(error);

      sandbox.restore(snapshot);
      expect(sandbox.poisoned).toBe(false);
      expect(guestMemoryDigest(sandbox)).toBe(digest);
      expect(sandbox.call('Increment', 'i32')).toBe(3);
      expect(sandbox.call('Add', 'i32', 40, 2)).toBe(42);
      expect(sandbox.call('CallHostAdd', 'i32', 1, 2)).toBe(3);
    });
  }
});

forEachGuest('a snapshot belongs to its guest', (language) => {
  it('a disposed snapshot refuses restore, fromSnapshot, save and memorySize', () => {
    using sandbox = simpleSandbox(language);
    const snapshot = sandbox.snapshot();
    expect(snapshot.disposed).toBe(false);
    expect(snapshot.memorySize).toBeGreaterThan(0);
    snapshot.dispose();
    snapshot.dispose();
    expect(snapshot.disposed).toBe(true);
    expect(thrownAs(SnapshotDisposedError, () => sandbox.restore(snapshot)).code).toBe('HL_ERR_SNAPSHOT_DISPOSED');
    thrownAs(SnapshotDisposedError, () => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: TEST_HOST_FUNCTIONS }));
    thrownAs(SnapshotDisposedError, () => snapshot.save('/nonexistent-dir/never-written.hlsnap'));
    thrownAs(SnapshotDisposedError, () => snapshot.memorySize);
    // None of that touched the sandbox.
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
  });

  it('the snapshot covers exactly the sandbox\'s guest memory', () => {
    using sandbox = simpleSandbox(language);
    using snapshot = sandbox.snapshot();
    expect(snapshot.memorySize).toBe(copyGuestMemory(sandbox).length);
    expect(snapshot.memorySize % 4096).toBe(0);
  });

  it('a disposed sandbox cannot take or restore a snapshot', () => {
    const sandbox = simpleSandbox(language);
    using snapshot = sandbox.snapshot();
    sandbox.dispose();
    thrownAs(SandboxStateError, () => sandbox.snapshot());
    thrownAs(SandboxStateError, () => sandbox.restore(snapshot));
    // The snapshot outlives the sandbox it was taken from.
    using copy = MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: TEST_HOST_FUNCTIONS });
    expect(copy.call('Increment', 'i32')).toBe(1);
  });

  it('a poisoned sandbox cannot be snapshotted until it is restored', () => {
    using sandbox = simpleSandbox(language);
    using clean = sandbox.snapshot();
    const error = thrownAs(GuestPanicError, () => sandbox.call('Panic', 'void', 'no snapshot of this'));
    const refusal = thrownAs(PoisonedSandboxError, () => sandbox.snapshot());
    expect(refusal.cause).toBe(error);
    sandbox.restore(clean);
    using again = sandbox.snapshot();
    expect(again.disposed).toBe(false);
  });

  it('disposing a snapshot does not disturb sandboxes made from it or restored to it', () => {
    using source = simpleSandbox(language);
    expect(source.call('Increment', 'i32')).toBe(1);
    const snapshot = source.snapshot();
    using restored = simpleSandbox(language);
    restored.restore(snapshot);
    using made = MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: TEST_HOST_FUNCTIONS });
    snapshot.dispose();
    for (const s of [source, restored, made]) {
      expect(s.call('Increment', 'i32')).toBe(2);
      s.call('DirtyPages', 'u32', 64, 9);
      expect(s.call('ReadDirtyPage', 'u32', 63)).toBe(9);
      expect(s.call('Increment', 'i32')).toBe(3);
    }
  });

  it('restore() of something that is not a snapshot is a TypeError', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown<unknown>(() => sandbox.restore({} as Snapshot));
    expect(error).toBeInstanceOf(TypeError);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
  });
});
