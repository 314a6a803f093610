/**
 * Sandbox creation for small, default and large configurations, next to the
 * raw-KVM floor of the same memory size; fromSnapshot; and the resident
 * memory each extra sandbox costs.
 */
import { GuestBinary, hostFunction, MultiUseSandbox, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { CONFIGURATIONS, type ConfigurationName } from '../configurations.js';
import { floorCreateRow, floorCreateTeardownRow } from '../floor-rows.js';
import { pssBytes, settle } from '../internals.js';
import { summarize, timeMicros, type Iterations } from '../measure.js';
import { Recorder, type Row } from '../report.js';

const KIB = 1024;

/** Options for {@link sandboxesSuite}. */
export interface SandboxesSuiteOptions {
  /** Few iterations: a smoke test, not a measurement. */
  readonly quick: boolean;
  /** Which simpleguest to run. */
  readonly guest: 'rust' | 'c';
  /** Rows of earlier suites (the floor rows this suite compares with). */
  readonly earlier: readonly Row[];
}

/** An unevolved sandbox of `binary` in configuration `name`, with the simpleguest's host function `HostAdd`. */
function create(binary: GuestBinary, name: ConfigurationName): UninitializedSandbox {
  const u = UninitializedSandbox.create(binary, CONFIGURATIONS[name]);
  u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b);
  return u;
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

function plan(quick: boolean): { create: Iterations; batches: number; sandboxes: number } {
  return quick ? { create: { warmup: 1, timed: 3 }, batches: 2, sandboxes: 4 } : { create: { warmup: 10, timed: 30 }, batches: 5, sandboxes: 20 };
}

/** Runs the suite and returns its rows and notes. */
export function sandboxesSuite(options: SandboxesSuiteOptions): { rows: Row[]; notes: string[] } {
  const record = new Recorder('sandboxes', options.earlier);
  const iterations = plan(options.quick);
  const binary = GuestBinary.fromFile(guestPath(options.guest, 'simpleguest'));
  record.note(
    `${options.guest} simpleguest. small: heap 128 KiB, stack 64 KiB, 16 KiB buffers; default: core's defaults; large: heap 192 MiB, stack 8 MiB, 4 MiB buffers. The floor does the same with raw ioctls and memory of the same size (bench/floor/floor.c).`,
  );

  for (const name of Object.keys(CONFIGURATIONS) as ConfigurationName[]) {
    record.add(`create + evolve, ${name}`, 'µs', summarize(timeMicros(iterations.create, () => create(binary, name).evolve(), undefined, (s) => s.dispose())), {
      relativeTo: floorCreateRow(name),
      target: 1.5,
      note: 'VM, ELF load, page tables, guest init; dispose untimed',
    });
    record.add(
      `create + evolve + dispose, ${name}`,
      'µs',
      summarize(timeMicros(iterations.create, () => create(binary, name).evolve().dispose())),
      { relativeTo: floorCreateTeardownRow(name) },
    );
  }

  const source = create(binary, 'default').evolve();
  try {
    source.call('Increment', 'i32');
    const snapshot = source.snapshot();
    try {
      const hostFunctions = { HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => a + b) };
      const fromSnapshot = (): MultiUseSandbox => MultiUseSandbox.fromSnapshot(snapshot, { hostFunctions });
      record.add('fromSnapshot, default', 'µs', summarize(timeMicros(iterations.create, fromSnapshot, undefined, (s) => s.dispose())), {
        relativeTo: 'create + evolve, default',
        note: 'no ELF load, no guest init; memory mapped copy-on-write',
      });
      const evolvedPss = 'Pss per sandbox: evolve, default';
      record.add(evolvedPss, 'KiB', summarize(pssPerSandbox(iterations.batches, iterations.sandboxes, () => create(binary, 'default').evolve())), {
        note: `growth of Pss (/proc/self/smaps_rollup) over ${iterations.sandboxes} sandboxes made and called once, divided by ${iterations.sandboxes}; n = batches`,
      });
      record.add('Pss per sandbox: fromSnapshot, default', 'KiB', summarize(pssPerSandbox(iterations.batches, iterations.sandboxes, fromSnapshot)), {
        relativeTo: evolvedPss,
        note: 'the same for fromSnapshot; the snapshot is shared',
      });
    } finally {
      snapshot.dispose();
    }
  } finally {
    source.dispose();
  }
  return { rows: record.rows, notes: record.notes };
}
