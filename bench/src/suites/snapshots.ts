/**
 * Snapshot figures for a 64 MiB sandbox: restore after the guest dirtied a
 * few or many pages (next to copying the whole memory, the alternative),
 * snapshot(), fromSnapshot() against create + evolve, and the resident
 * memory each extra sandbox from one snapshot costs.
 */
import { GuestBinary, MultiUseSandbox, UninitializedSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { privatePageCount, pssBytes, settle } from '../internals.js';
import { summarize, timeMicros, type Iterations } from '../measure.js';
import { Recorder, type Row } from '../report.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Options for {@link snapshotSuite}. */
export interface SnapshotSuiteOptions {
  /** Few iterations: a smoke test, not a measurement. */
  readonly quick: boolean;
  /** Which simpleguest to run. */
  readonly guest: 'rust' | 'c';
}

/** Iteration counts per kind of case. */
function plan(quick: boolean): { restore: Iterations; copy: Iterations; snapshot: Iterations; create: Iterations; batches: number; sandboxes: number } {
  return quick
    ? { restore: { warmup: 2, timed: 10 }, copy: { warmup: 1, timed: 5 }, snapshot: { warmup: 1, timed: 5 }, create: { warmup: 1, timed: 3 }, batches: 2, sandboxes: 4 }
    : { restore: { warmup: 20, timed: 300 }, copy: { warmup: 3, timed: 30 }, snapshot: { warmup: 5, timed: 50 }, create: { warmup: 3, timed: 30 }, batches: 5, sandboxes: 20 };
}

/**
 * Resident memory (Pss, KiB) each sandbox adds when made by `make` and
 * called once: per batch, the growth over `perBatch` sandboxes divided by
 * `perBatch` (single-sandbox steps are swamped by memory other code releases
 * meanwhile). Two sandboxes made before each baseline keep one-time costs
 * (snapshot pages read in, lazily opened handles) out of the figures.
 */
function pssPerSandbox(batches: number, perBatch: number, make: () => MultiUseSandbox): number[] {
  const figures: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    const sandboxes: MultiUseSandbox[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const warm = make();
        sandboxes.push(warm);
        warm.call('Increment', 'i32');
      }
      settle();
      const before = pssBytes();
      for (let i = 0; i < perBatch; i++) {
        const sandbox = make();
        sandboxes.push(sandbox);
        sandbox.call('Increment', 'i32');
      }
      figures.push((pssBytes() - before) / KIB / perBatch);
    } finally {
      for (const sandbox of sandboxes) sandbox.dispose();
    }
  }
  return figures;
}

/** Runs the suite and returns its rows and notes. */
export function snapshotSuite(options: SnapshotSuiteOptions): { rows: Row[]; notes: string[] } {
  const record = new Recorder('snapshots');
  const iterations = plan(options.quick);
  const binary = GuestBinary.fromFile(guestPath(options.guest, 'simpleguest'));
  const config: SandboxConfiguration = { heapSize: 60 * MIB };
  const evolve = (): MultiUseSandbox => UninitializedSandbox.create(binary, config).evolve();

  const sandbox = evolve();
  try {
    sandbox.call('Increment', 'i32');
    const snapshot = sandbox.snapshot();
    try {
      const size = snapshot.memorySize;
      const sizeText = `${(size / MIB).toFixed(1)} MiB`;
      record.note(`${options.guest} simpleguest, heapSize 60 MiB: ${sizeText} of guest memory.`);
      record.note('Restore rows time `restore()` alone; before each, the guest ran `DirtyPages(n)`, which also writes its stack, the input/output buffers and a static or two (the note gives the private pages restore found).');

      // The alternative to copy-on-write restore: copy every byte back.
      const source = new Uint8Array(size).fill(0xa5);
      const target = new Uint8Array(size).fill(0x5a);
      const copy = `copy ${sizeText}`;
      record.add(copy, 'µs', summarize(timeMicros(iterations.copy, () => target.set(source))), {
        note: 'Uint8Array.set of the whole guest memory size: restoring by copying',
      });

      for (const pages of [1, 16, 256]) {
        const privatePages: number[] = [];
        let value = 1;
        const samples = timeMicros(
          iterations.restore,
          () => sandbox.restore(snapshot),
          () => {
            sandbox.call('DirtyPages', 'u32', pages, value++ & 0xff || 1);
            privatePages.push(privatePageCount(sandbox));
          },
        );
        const typical = summarize(privatePages).median;
        record.add(`restore after DirtyPages(${pages})`, 'µs', summarize(samples), { relativeTo: copy, note: `${typical} private pages` });
      }

      record.add(
        'snapshot()',
        'µs',
        summarize(timeMicros(iterations.snapshot, () => sandbox.snapshot(), () => sandbox.call('DirtyPages', 'u32', 16, 7), (s) => s.dispose())),
        { note: 'after DirtyPages(16); copies the pages that hold data, then re-maps guest memory over the copy' },
      );
      sandbox.restore(snapshot);

      const evolveName = 'create + evolve';
      record.add(evolveName, 'µs', summarize(timeMicros(iterations.create, evolve, undefined, (s) => s.dispose())), {
        note: 'UninitializedSandbox.create(binary, config).evolve(): VM, ELF load, guest init',
      });
      record.add(
        'create + evolve + first call',
        'µs',
        summarize(timeMicros(iterations.create, () => {
          const s = evolve();
          s.call('Increment', 'i32');
          return s;
        }, undefined, (s) => s.dispose())),
      );
      record.add(
        'fromSnapshot',
        'µs',
        summarize(timeMicros(iterations.create, () => MultiUseSandbox.fromSnapshot(snapshot), undefined, (s) => s.dispose())),
        { relativeTo: evolveName, note: 'no ELF load, no guest init; memory mapped copy-on-write' },
      );
      record.add(
        'fromSnapshot + first call',
        'µs',
        summarize(timeMicros(iterations.create, () => {
          const s = MultiUseSandbox.fromSnapshot(snapshot);
          s.call('Increment', 'i32');
          return s;
        }, undefined, (s) => s.dispose())),
        { relativeTo: 'create + evolve + first call' },
      );

      const evolvedPss = 'Pss per sandbox: evolve';
      record.add(evolvedPss, 'KiB', summarize(pssPerSandbox(iterations.batches, iterations.sandboxes, evolve)), {
        note: `growth of Pss (/proc/self/smaps_rollup) over ${iterations.sandboxes} sandboxes made by create + evolve and called once, divided by ${iterations.sandboxes}; n = batches`,
      });
      record.add(
        'Pss per sandbox: fromSnapshot',
        'KiB',
        summarize(pssPerSandbox(iterations.batches, iterations.sandboxes, () => MultiUseSandbox.fromSnapshot(snapshot))),
        { relativeTo: evolvedPss, note: `the same for fromSnapshot; the ${sizeText} snapshot is shared` },
      );
    } finally {
      snapshot.dispose();
    }
  } finally {
    sandbox.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
