import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import {
  GuestBinary, hostFunction, MultiUseSandbox, SnapshotMismatchError, UninitializedSandbox, type SandboxConfiguration,
  type SnapshotMismatchReason,
} from '@hyperlight-ts/core';
import {
  forEachGuest, GUEST_LANGUAGES, registerTestHostFunctions, simpleGuest, simpleSandbox, TEST_HOST_FUNCTIONS, type GuestLanguage,
} from './support/guests.js';
import { copyGuestMemory, describePages, differingPages } from './support/internals.js';
import { LAZY_MEMORY, requireBackend } from './support/backend-under-test.js';
import { handlesUncountable, mappingCount, openFdCount, pssBytes } from './support/process.js';
import { thrownAs } from './support/thrown.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const PAGE = 4 * KIB;

const exampleDir = dirname(createRequire(import.meta.url).resolve('@hyperlight-ts/example-hello-world/package.json'));
const helloWorldGuest = (): GuestBinary => GuestBinary.fromFile(join(exampleDir, 'dist/hello-world-guest.elf'));

/** Expects `fn` to throw SnapshotMismatchError for `reason`, and returns it. */
function expectMismatch(reason: SnapshotMismatchReason, fn: () => unknown): SnapshotMismatchError {
  const error = thrownAs(SnapshotMismatchError, fn);
  expect(error.code).toBe('HL_ERR_SNAPSHOT_MISMATCH');
  expect(error.reason, error.message).toBe(reason);
  expect(error.message).toBe(`snapshot does not match the sandbox (${reason}): ${error.detail}`);
  return error;
}

/** A sandbox made from `snapshot` with the test host functions, and any other options. */
function fromSnapshot(snapshot: Parameters<typeof MultiUseSandbox.fromSnapshot>[0], options: SandboxConfiguration = {}): MultiUseSandbox {
  return MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: TEST_HOST_FUNCTIONS, ...options });
}

forEachGuest('snapshots across sandboxes', (language) => {
  const other: GuestLanguage = GUEST_LANGUAGES.find((l) => l !== language)!;

  it('a snapshot of A restores B of the same binary and configuration', () => {
    using a = simpleSandbox(language, { heapSize: 2 * MIB });
    using b = simpleSandbox(language, { heapSize: 2 * MIB });
    for (let i = 1; i <= 5; i++) expect(a.call('Increment', 'i32')).toBe(i);
    a.call('WriteStackMarker', 'void', 0xabcdefn);
    using snapshot = a.snapshot();
    const atSnapshot = copyGuestMemory(a);
    expect(b.call('Increment', 'i32')).toBe(1);
    b.restore(snapshot);
    const pages = differingPages(b, atSnapshot);
    expect(pages, `pages that differ: ${describePages(pages)}`).toEqual([]);
    expect(b.call('Increment', 'i32')).toBe(6);
    expect(b.call('ReadStackMarker', 'u64')).toBe(0xabcdefn);
    expect(a.call('Increment', 'i32')).toBe(6);
    expect(a.call('Increment', 'i32')).toBe(7);
    expect(b.call('Increment', 'i32')).toBe(7);
  });

  it(`a snapshot of the ${other} guest is refused (binary), and the sandbox is unchanged`, () => {
    using mine = simpleSandbox(language);
    using theirs = simpleSandbox(other);
    expect(mine.call('Increment', 'i32')).toBe(1);
    using snapshot = theirs.snapshot();
    expectMismatch('binary', () => mine.restore(snapshot));
    expect(mine.poisoned).toBe(false);
    expect(mine.call('Increment', 'i32')).toBe(2);
  });

  it('a snapshot of the hello-world example guest is refused (binary)', () => {
    using mine = simpleSandbox(language);
    const u = UninitializedSandbox.create(helloWorldGuest());
    u.register('GetWeekday', { params: [], returns: 'string' }, () => 'Monday');
    using hello = u.evolve();
    using snapshot = hello.snapshot();
    expectMismatch('binary', () => mine.restore(snapshot));
    using mineSnapshot = mine.snapshot();
    expectMismatch('binary', () => hello.restore(mineSnapshot));
    expect(hello.call('SayHello', 'string', 'World')).toBe('Hello, World! Today is Monday.');
  });

  it('a snapshot with another heapSize or stackSize is refused (layout)', () => {
    using small = simpleSandbox(language, { heapSize: 512 * KIB });
    using big = simpleSandbox(language, { heapSize: 2 * MIB });
    using deep = simpleSandbox(language, { stackSize: 512 * KIB });
    using snapshot = small.snapshot();
    expectMismatch('layout', () => big.restore(snapshot));
    expectMismatch('layout', () => deep.restore(snapshot));
    expect(big.call('AllocateBytes', 'u32', MIB)).toBe(MIB);
  });

  it('a snapshot with other init data of the same length is refused (configuration)', () => {
    using a = simpleSandbox(language, { initData: Uint8Array.of(1, 2, 3, 4) });
    using b = simpleSandbox(language, { initData: Uint8Array.of(4, 3, 2, 1) });
    using snapshot = a.snapshot();
    expectMismatch('configuration', () => b.restore(snapshot));
    expect(b.call('ReadInitData', 'bytes')).toEqual(Uint8Array.of(4, 3, 2, 1));
  });

  it('a sandbox without the snapshot\'s host functions cannot restore it (host-functions)', () => {
    using a = simpleSandbox(language);
    using bare = UninitializedSandbox.create(simpleGuest(language)).evolve();
    using snapshot = a.snapshot();
    const error = expectMismatch('host-functions', () => bare.restore(snapshot));
    expect(error.detail).toContain('"HostAdd" is not registered');
    // The other way round is fine: the bare sandbox's snapshot needs nothing.
    using bareSnapshot = bare.snapshot();
    a.restore(bareSnapshot);
    expect(a.call('Add', 'i32', 1, 1)).toBe(2);
  });
});

forEachGuest('MultiUseSandbox.fromSnapshot', (language) => {
  it('50 sandboxes from one snapshot each keep their own state', () => {
    using source = simpleSandbox(language);
    for (let i = 1; i <= 3; i++) source.call('Increment', 'i32');
    using snapshot = source.snapshot();
    const sandboxes = Array.from({ length: 50 }, () => fromSnapshot(snapshot));
    try {
      // Sandbox i increments i % 4 + 1 times, then writes i into its own page.
      sandboxes.forEach((s, i) => {
        for (let k = 1; k <= (i % 4) + 1; k++) expect(s.call('Increment', 'i32')).toBe(3 + k);
        expect(s.call('DirtyPages', 'u32', 1, i)).toBe(1);
      });
      sandboxes.forEach((s, i) => {
        expect(s.call('Increment', 'i32')).toBe(3 + (i % 4) + 2);
        expect(s.call('ReadDirtyPage', 'u32', 0)).toBe(i);
        expect(s.poisoned).toBe(false);
      });
      expect(source.call('Increment', 'i32')).toBe(4);
      expect(source.call('ReadDirtyPage', 'u32', 0)).toBe(0);
    } finally {
      for (const s of sandboxes) s.dispose();
    }
  });

  it('a sandbox from a snapshot starts with the snapshot\'s memory and guest functions', () => {
    using source = simpleSandbox(language);
    source.call('Increment', 'i32');
    using snapshot = source.snapshot();
    const atSnapshot = copyGuestMemory(source);
    using copy = fromSnapshot(snapshot);
    const pages = differingPages(copy, atSnapshot);
    expect(pages, `pages that differ: ${describePages(pages)}`).toEqual([]);
    expect([...copy.guestFunctions.values()]).toEqual([...source.guestFunctions.values()]);
    expect(copy.call('CallHostAdd', 'i32', 20, 22)).toBe(42);
    // It can restore the snapshot it came from, and take its own.
    expect(copy.call('Increment', 'i32')).toBe(2);
    copy.restore(snapshot);
    expect(copy.call('Increment', 'i32')).toBe(2);
    using own = copy.snapshot();
    source.restore(own);
    expect(source.call('Increment', 'i32')).toBe(3);
  });

  it('each extra sandbox costs about the pages it writes, not its memory size (Pss)', ({ skip }) => {
    requireBackend(skip, ['kvm'], LAZY_MEMORY);
    const heapSize = 8 * MIB;
    const dirtied = 64;
    using source = simpleSandbox(language, { heapSize });
    using snapshot = source.snapshot();
    const warm = fromSnapshot(snapshot); // first-use costs (snapshot pages read in, lazy handles) out of the figure
    warm.call('DirtyPages', 'u32', dirtied, 1);
    const count = 50;
    const sandboxes: MultiUseSandbox[] = [];
    const before = pssBytes();
    try {
      for (let i = 0; i < count; i++) {
        const s = fromSnapshot(snapshot);
        sandboxes.push(s);
        expect(s.call('DirtyPages', 'u32', dirtied, i + 1)).toBe(dirtied);
        expect(s.call('Increment', 'i32')).toBe(1);
      }
      const perSandbox = (pssBytes() - before) / count;
      console.log(
        `[${language}] Pss per sandbox from one snapshot: ${(perSandbox / KIB).toFixed(0)} KiB ` +
          `(memory size ${(snapshot.memorySize / KIB).toFixed(0)} KiB, ${(dirtied * PAGE) / KIB} KiB dirtied by DirtyPages)`,
      );
      // The dirtied pages are really private...
      expect(perSandbox).toBeGreaterThanOrEqual(0.75 * dirtied * PAGE);
      // ...and the rest is shared: far below a copy of the sandbox's memory.
      expect(perSandbox).toBeLessThan(dirtied * PAGE + snapshot.memorySize / 8);
      for (const [i, s] of sandboxes.entries()) expect(s.call('ReadDirtyPage', 'u32', dirtied - 1)).toBe(i + 1);
    } finally {
      for (const s of sandboxes) s.dispose();
      warm.dispose();
    }
  });

  it('missing host functions are refused (host-functions)', () => {
    using source = simpleSandbox(language);
    using snapshot = source.snapshot();
    expectMismatch('host-functions', () => MultiUseSandbox.fromSnapshot(snapshot));
    const { HostAdd: _dropped, ...withoutHostAdd } = TEST_HOST_FUNCTIONS;
    const error = expectMismatch('host-functions', () => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions: withoutHostAdd }));
    expect(error.detail).toContain('"HostAdd" is not registered');
  });

  it('a host function with another signature is refused (host-functions); extra ones are fine', () => {
    using source = simpleSandbox(language);
    using snapshot = source.snapshot();
    const hostFunctions = {
      ...TEST_HOST_FUNCTIONS,
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i64' }, (a, b) => BigInt(a + b)),
    };
    const error = expectMismatch('host-functions', () => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions }));
    expect(error.detail).toContain('"HostAdd"');
    using extra = MultiUseSandbox.fromSnapshot(snapshot, {
      hostFunctions: { ...TEST_HOST_FUNCTIONS, HostExtra: hostFunction({ params: [], returns: 'void' }, () => undefined) },
    });
    expect(extra.call('CallHostAdd', 'i32', 2, 3)).toBe(5);
  });

  it('a different heapSize is refused (configuration); the same one, print and a logger are fine', () => {
    using source = simpleSandbox(language, { heapSize: 2 * MIB });
    using snapshot = source.snapshot();
    expectMismatch('configuration', () => fromSnapshot(snapshot, { heapSize: MIB }));
    expectMismatch('configuration', () => fromSnapshot(snapshot, { heapSize: 2 * MIB, stackSize: 128 * KIB }));
    const printed: string[] = [];
    using copy = fromSnapshot(snapshot, { heapSize: 2 * MIB, print: (text) => printed.push(text), logger: () => undefined });
    expect(copy.call('Print', 'u32', 'hi')).toBe(2);
    expect(printed).toEqual(['hi']);
    // Without sizes the snapshot's apply.
    using plain = fromSnapshot(snapshot);
    expect(plain.call('AllocateBytes', 'u32', 1536 * KIB)).toBe(1536 * KIB);
  });
});

forEachGuest('snapshot resources', (language) => {
  it('100 cycles of snapshot, restore, fromSnapshot and dispose leak no file descriptors or mappings', ({ skip }) => {
    skip(handlesUncountable !== undefined, handlesUncountable);
    using sandbox = simpleSandbox(language);
    const cycle = (i: number): void => {
      using snapshot = sandbox.snapshot();
      sandbox.call('DirtyPages', 'u32', 4, i);
      sandbox.restore(snapshot);
      using copy = fromSnapshot(snapshot);
      copy.call('DirtyPages', 'u32', 4, i);
      expect(copy.call('Increment', 'i32')).toBe(i + 1);
      expect(sandbox.call('Increment', 'i32')).toBe(i + 1);
    };
    cycle(0);
    cycle(1);
    const fds = openFdCount();
    const mappings = mappingCount();
    expect(mappings).toBeGreaterThan(0); // the sandbox's own guest memory and vCPU
    for (let i = 2; i < 102; i++) cycle(i);
    expect(openFdCount()).toBe(fds);
    expect(mappingCount()).toBe(mappings);
  });
});
