import type { TraceDropCounts, TraceFileHeader, TraceLine } from '../../src/index.js';

/** A header as the collector writes it, without format and version. */
export const HEADER: Omit<TraceFileHeader, 'format' | 'version'> = {
  guest: { sha256: 'ab'.repeat(32), imageBase: '0x200000', linkBase: '0x0' },
  clock: { tscFrequencyHz: 2_400_000_000, source: 'hypervisor', invariantTsc: true },
  startTimeUnixNano: '1764979200000000000',
  createdBy: '@hyperlight-ts/tracing test',
};

/** No drops. */
export const NO_DROPS: TraceDropCounts = { malformed: 0, oversized: 0, unknownSpan: 0, guestLost: 0, limit: 0 };

/** One line of every type, with every field kind. */
export const EVERY_LINE: readonly TraceLine[] = [
  { type: 'alloc', run: 1, time: 100, address: '0x20a000', size: 64, stack: ['0x201234', '0x205678'] },
  { type: 'event', run: 1, span: 2, name: 'héllo "quoted"\n', target: 'guest::demo', level: 'info', time: 150, fields: { n: 1, big: '18446744073709551615', ok: true, s: 'x' } },
  { type: 'event', run: 1, span: null, name: 'outside', target: 't', level: 'critical', time: 160, fields: {} },
  { type: 'span', run: 1, id: 2, parent: 1, name: 'child', target: 'guest::demo', level: 'debug', start: 120, end: 180, fields: { f: -1.5 } },
  { type: 'free', run: 1, time: 190, address: '0x20a000', size: 64, stack: [] },
  { type: 'span', run: 1, id: 1, parent: null, name: 'root', target: 'guest', level: 'trace', start: 110, end: 200, fields: {}, unclosed: true },
  { type: 'run', run: 1, operation: 'init', function: null, start: 0, end: 210, error: null },
  { type: 'run', run: 2, operation: 'call', function: 'Echo', start: 300, end: 400, error: 'guest panicked: boom' },
];
