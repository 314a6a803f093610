/**
 * Running the real-world guests: whether a hypervisor is usable, sandboxes
 * sized for the corpora, and batches through the guest's `Batch` function.
 */
import { GuestBinary, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration } from '@hyperlight-ts/core';
import { describeHypervisor } from '@hyperlight-ts/test-support';
import { artifacts, runNative, type LibraryId } from './artifacts.js';
import { decodeBatch, encodeBatch, splitBatches, type BatchRecord, type BatchResult } from './batch.js';

export { describeHypervisor };

const MIB = 1024 * 1024;

/** Most request bytes per `Batch` call; the buffers below leave room for responses a little larger. */
export const MAX_BATCH_BYTES = 4 * MIB;

/**
 * Sandbox sizes for the corpora: 4 MiB batches in and out (with headroom), a
 * heap for the request's copy, the growing response and zlib's state, and a
 * stack for cJSON's recursion at its nesting limit (1000 levels, unoptimised
 * as cJSON builds by default).
 */
export const REAL_WORLD_SANDBOX: SandboxConfiguration = {
  inputSize: 5 * MIB,
  outputSize: 9 * MIB,
  heapSize: 64 * MIB,
  stackSize: 4 * MIB,
};

/** An evolved sandbox of a library's guest; guest prints are collected in `printed`. */
export function guestSandbox(id: LibraryId, printed: string[] = []): MultiUseSandbox {
  const { guest } = artifacts(id);
  if (!guest) throw new Error(`the ${id} guest is not built: build @hyperlight-ts/guest-rs and @hyperlight-ts/guest-c, then this package`);
  const config = { ...REAL_WORLD_SANDBOX, print: (text: string) => void printed.push(text) };
  return UninitializedSandbox.create(GuestBinary.fromFile(guest), config).evolve();
}

/** Runs records through the guest's `Batch` function, split into calls of at most {@link MAX_BATCH_BYTES}. */
export function runGuest(sandbox: MultiUseSandbox, records: readonly BatchRecord[]): BatchResult[] {
  return splitBatches(records, MAX_BATCH_BYTES).flatMap((batch) => decodeBatch(sandbox.call('Batch', 'bytes', encodeBatch(batch))));
}

/** The outcome of running the same records in the guest and natively. */
export interface Comparison {
  readonly guest: BatchResult[];
  readonly native: BatchResult[];
  /** One line per record whose status or bytes differ (empty when all agree). */
  readonly differences: string[];
}

/** Runs `records` in the guest and in the native CLI and lists every record where they differ. */
export function compareWithNative(id: LibraryId, sandbox: MultiUseSandbox, records: readonly BatchRecord[]): Comparison {
  const guest = runGuest(sandbox, records);
  const native = splitBatches(records, MAX_BATCH_BYTES).flatMap((batch) => runNative(id, batch));
  const differences: string[] = [];
  if (guest.length !== records.length || native.length !== records.length) {
    differences.push(`${records.length} records: ${guest.length} guest results, ${native.length} native results`);
  }
  records.forEach((record, i) => {
    const g = guest[i];
    const n = native[i];
    if (g && n && (g.status !== n.status || Buffer.compare(g.data, n.data) !== 0)) differences.push(describeDifference(record, g, n));
  });
  return { guest, native, differences };
}

/** A readable account of one difference: statuses, sizes and the first differing byte in context. */
function describeDifference(record: BatchRecord, guest: BatchResult, native: BatchResult): string {
  let at = 0;
  while (at < guest.data.length && at < native.data.length && guest.data[at] === native.data[at]) at++;
  const around = (data: Uint8Array) => JSON.stringify(Buffer.from(data.subarray(Math.max(0, at - 40), at + 40)).toString('latin1'));
  return (
    `${record.label}: guest status ${guest.status} (${guest.data.length} bytes), native status ${native.status} (${native.data.length} bytes), ` +
    `first difference at byte ${at}: guest ${around(guest.data)} native ${around(native.data)}`
  );
}
