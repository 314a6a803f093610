/**
 * The floor as rows: what raw KVM ioctls with no library cost for the same
 * operations, measured in the same run (bench/floor/floor.c). Other suites
 * name these rows in `relativeTo`.
 */
import { CONFIGURATIONS, mib, type ConfigurationName } from './configurations.js';
import { measureFloor } from './floor.js';
import { Recorder, type Row } from './report.js';

/** Name of the floor row for creating a VM of `configuration`'s memory size up to its first exit. */
export function floorCreateRow(configuration: ConfigurationName): string {
  return `floor: create → first exit, ${configuration}`;
}

/** Name of the floor row for creating a VM of `configuration`'s size, its first exit and its teardown. */
export function floorCreateTeardownRow(configuration: ConfigurationName): string {
  return `floor: create → first exit → teardown, ${configuration}`;
}

/** Name of the floor row for one exit round trip from ring 3 (`KVM_RUN` resume to the next `out` exit). */
export const FLOOR_ROUND_TRIP = 'floor: exit round trip';

/** Name of the floor row for copying `pages` 4 KiB pages. */
export function floorCopyRow(pages: number): string {
  return `floor: memcpy ${pages} page${pages === 1 ? '' : 's'}`;
}

/** Pages copied by the memcpy floor rows: one page and 1 MiB. */
export const FLOOR_COPY_PAGES = [1, 256] as const;

/**
 * Measures the floor and records it as the suite `floor`.
 * @param memorySizesBytes - the guest memory size of each configuration's sandbox
 */
export function floorSuite(quick: boolean, memorySizesBytes: Readonly<Record<ConfigurationName, number>>): { rows: Row[]; notes: string[] } {
  const record = new Recorder('floor');
  const names = Object.keys(CONFIGURATIONS) as ConfigurationName[];
  const floor = measureFloor({ quick, memorySizesBytes: names.map((n) => memorySizesBytes[n]), copyPages: FLOOR_COPY_PAGES });
  record.note('Raw KVM, no library: a VM with one vCPU and guest memory of the same size as our sandbox, 4-level paging, a GDT with ring-3 segments and a TSS whose I/O bitmap grants the exit port; the guest runs in ring 3 and exits with `out`, as ours do.');
  for (const name of names) {
    const size = memorySizesBytes[name];
    const create = floor.create.get(size);
    if (!create) throw new Error(`the floor measured no create for ${size} bytes`);
    record.add(floorCreateRow(name), 'µs', create.toFirstExit, { note: `${mib(size)} of guest memory` });
    record.add(`floor: teardown, ${name}`, 'µs', create.teardown);
    record.add(floorCreateTeardownRow(name), 'µs', create.total);
  }
  record.add(FLOOR_ROUND_TRIP, 'µs', floor.roundTrip, { note: '`KVM_RUN` resume to the next `out` exit from ring 3: what each exit of a call costs' });
  record.add('floor: entry', 'µs', floor.entry, { note: 'set RIP/RSP, then `KVM_RUN` to the `out` exit: a guest call that does nothing' });
  for (const pages of FLOOR_COPY_PAGES) {
    const copy = floor.memcpy.get(pages);
    if (!copy) throw new Error(`the floor measured no memcpy of ${pages} pages`);
    record.add(floorCopyRow(pages), 'µs', copy, { note: 'into an already-touched destination' });
  }
  return { rows: record.rows, notes: record.notes };
}
