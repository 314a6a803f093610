/**
 * A realistic trace written with the collector's own writer: three runs
 * (init, a call, a failing call), nested spans, events inside and outside
 * spans, an unclosed span, and an allocation pattern whose stacks point at
 * real functions of the Rust fixture guest, so symbolization runs on real data.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parseElf, readElfSymbols } from '@hyperlight-ts/core';
import { TraceFileWriter, type TraceLine } from '@hyperlight-ts/tracing';

import { demangleRust } from '../../src/symbols/demangle-rust.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/guests/out');

/** The real guest the trace's addresses point into, and another one (for hash mismatches). */
export const GUEST_ELF = join(FIXTURES, 'simpleguest.elf');
export const OTHER_ELF = join(FIXTURES, 'c-simpleguest.elf');

/** Where the trace says the guest image was loaded. */
export const IMAGE_BASE = 0x200000n;

/** The functions the allocation stacks go through, by their demangled names (two legacy-mangled, two v0). */
export const FUNCTIONS = {
  rustAlloc: '__rustc::__rust_alloc',
  finishGrow: '<alloc::raw_vec::RawVecInner>::finish_grow',
  callHostMany: 'simpleguest::call_host_many',
  panicLarge: 'simpleguest::panic_large',
} as const;

/**
 * The guest address of a return address 5 bytes into each function (as
 * after a call instruction), in the loaded image.
 */
export function returnAddresses(): Record<keyof typeof FUNCTIONS, string> {
  if (!existsSync(GUEST_ELF)) {
    throw new Error(`${GUEST_ELF} is not built: run \`pnpm --filter @hyperlight-ts/fixture-guests build\``);
  }
  const bytes = readFileSync(GUEST_ELF);
  const linkBase = parseElf(bytes).vaddrBase;
  const symbols = readElfSymbols(bytes);
  const entries = Object.entries(FUNCTIONS).map(([key, name]) => {
    const symbol = symbols.find((s) => s.kind === 'function' && demangleRust(s.name) === name);
    if (!symbol) throw new Error(`the fixture guest has no function ${name}`);
    return [key, `0x${(symbol.value - linkBase + IMAGE_BASE + 5n).toString(16)}`];
  });
  return Object.fromEntries(entries) as Record<keyof typeof FUNCTIONS, string>;
}

/** SHA-256 of a file, hex. */
export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The body lines of the realistic trace, in the order a collector writes them. */
export function realisticLines(): TraceLine[] {
  const f = returnAddresses();
  const viaVec = [f.rustAlloc, f.finishGrow, f.callHostMany];
  const inPanic = [f.rustAlloc, f.panicLarge];
  return [
    // Run 1: init. Children end (and are written) before their parents.
    { type: 'alloc', run: 1, time: 2500, address: '0x300000', size: 100, stack: viaVec },
    { type: 'event', run: 1, span: 2, name: 'heap ready', target: 'simpleguest::init', level: 'info', time: 3000, fields: { size: 65536 } },
    { type: 'span', run: 1, id: 2, parent: 1, name: 'setup_heap', target: 'simpleguest::init', level: 'debug', start: 2000, end: 5000, fields: {} },
    { type: 'span', run: 1, id: 1, parent: null, name: 'init', target: 'simpleguest', level: 'info', start: 1000, end: 9000, fields: {} },
    { type: 'run', run: 1, operation: 'init', function: null, start: 0, end: 10_000, error: null },
    // Run 2: a call with nested spans.
    { type: 'alloc', run: 2, time: 23_000, address: '0x300100', size: 200, stack: inPanic },
    { type: 'span', run: 2, id: 4, parent: 3, name: 'decode', target: 'hyperlight_guest', level: 'trace', start: 22_000, end: 25_000, fields: {} },
    { type: 'event', run: 2, span: 5, name: 'echoing', target: 'simpleguest', level: 'debug', time: 27_000, fields: { len: 5, text: 'hello' } },
    { type: 'alloc', run: 2, time: 31_000, address: '0x300300', size: 50, stack: viaVec },
    { type: 'span', run: 2, id: 6, parent: 5, name: 'format', target: 'simpleguest', level: 'trace', start: 30_000, end: 40_000, fields: { width: 3 } },
    { type: 'free', run: 2, time: 41_000, address: '0x300000', size: 100, stack: viaVec },
    { type: 'free', run: 2, time: 42_000, address: '0x300300', size: 50, stack: viaVec },
    { type: 'span', run: 2, id: 5, parent: 3, name: 'handler', target: 'simpleguest', level: 'info', start: 26_000, end: 46_000, fields: { function: 'Echo' } },
    { type: 'event', run: 2, span: null, name: 'slow call', target: 'hyperlight_guest', level: 'warn', time: 47_500, fields: {} },
    { type: 'span', run: 2, id: 3, parent: null, name: 'dispatch', target: 'hyperlight_guest', level: 'info', start: 21_000, end: 49_000, fields: {} },
    { type: 'run', run: 2, operation: 'call', function: 'Echo', start: 20_000, end: 50_000, error: null },
    // Run 3: a failing call whose span the host closed; one block leaks.
    { type: 'alloc', run: 3, time: 62_000, address: '0x300400', size: 400, stack: inPanic },
    { type: 'free', run: 3, time: 65_000, address: '0x300100', size: 200, stack: inPanic },
    { type: 'span', run: 3, id: 7, parent: null, name: 'dispatch', target: 'hyperlight_guest', level: 'info', start: 61_000, end: 69_000, fields: {}, unclosed: true },
    { type: 'run', run: 3, operation: 'call', function: 'Fail', start: 60_000, end: 70_000, error: 'guest panicked: boom' },
  ];
}

/** Writes the realistic trace to `path`, recorded (by its header) with {@link GUEST_ELF}. */
export function writeRealisticTrace(path: string): void {
  const writer = new TraceFileWriter(path, {
    guest: { sha256: sha256Of(GUEST_ELF), imageBase: `0x${IMAGE_BASE.toString(16)}`, linkBase: `0x${parseElf(readFileSync(GUEST_ELF)).vaddrBase.toString(16)}` },
    clock: { tscFrequencyHz: 2_400_000_000, source: 'hypervisor', invariantTsc: true },
    startTimeUnixNano: '1764979200000000000',
    createdBy: '@hyperlight-ts/tracing test',
  });
  for (const line of realisticLines()) writer.write(line);
  writer.close({ malformed: 1, oversized: 0, unknownSpan: 0, guestLost: 2, limit: 0 });
}
