/**
 * Snapshot figures for a 64 MiB sandbox: restore after the guest dirtied a
 * few or many pages (next to copying the whole memory, the alternative) and
 * snapshot(). fromSnapshot is in the sandboxes suite.
 */
import { GuestBinary, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { privatePageCount } from '../internals.js';
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
function plan(quick: boolean): { restore: Iterations; copy: Iterations; snapshot: Iterations } {
  return quick
    ? { restore: { warmup: 2, timed: 10 }, copy: { warmup: 1, timed: 5 }, snapshot: { warmup: 1, timed: 5 } }
    : { restore: { warmup: 20, timed: 300 }, copy: { warmup: 3, timed: 30 }, snapshot: { warmup: 5, timed: 50 } };
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

    } finally {
      snapshot.dispose();
    }
  } finally {
    sandbox.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
