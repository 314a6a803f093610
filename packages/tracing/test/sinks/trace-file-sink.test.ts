import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { GuestTracer, readTraceFile } from '../../src/index.js';
import { NOMINAL_TSC_FREQUENCY_HZ } from '../../src/sinks/trace-file-sink.js';
import { FakeCore, sessionInfo } from '../support/fake-core.js';
import { batch, event, memory, runStart, spanClose, spanOpen } from '../support/trace-records.js';

const T = 1_000_000n;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hl-trace-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('trace files', () => {
  it('writes header, run, span, event and memory lines and a trailer that read back', async () => {
    const tracer = new GuestTracer({ openTelemetry: false, file: join(dir, 'trace-{sandbox}.jsonl'), memoryProfile: true });
    const core = new FakeCore(tracer, sessionInfo({ imageBase: 0x200000, linkBase: 0x1000 }));
    core.run({
      operation: 'init',
      batches: [{ atNs: 100, bytes: batch(runStart(T, 'init'), spanOpen(1, 0, { tsc: T + 10n, name: 'init' }), spanClose(1, T + 20n)) }],
      endNs: 200,
    });
    core.run({
      beginNs: 1000,
      functionName: 'Work',
      batches: [{
        atNs: 1500, lost: 1,
        bytes: batch(
          runStart(T + 1000n),
          spanOpen(1, 0, { tsc: T + 1010n, name: 'outer', fields: [{ type: 'i64', key: 'n', value: -1n }] }),
          spanOpen(2, 1, { tsc: T + 1020n, name: 'inner' }),
          event(2, { tsc: T + 1030n, name: 'hello', level: 4 }),
          memory('alloc', 0x20a010n, 64n, [0x1f2a0n], T + 1040n, 2),
          spanClose(2, T + 1050n),
          spanClose(1, T + 1060n),
          memory('free', 0x20a010n, 64n, [], T + 1070n),
          spanOpen(3, 0, { tsc: T + 1080n, name: 'left open' }),
          spanClose(99, T + 1090n),
        ),
      }],
      endNs: 2000,
      error: new Error('boom'),
    });
    core.session.close();

    const file = await readTraceFile(join(dir, 'trace-1.jsonl'));
    expect(file.header).toMatchObject({
      format: 'hyperlight-trace', version: 1,
      guest: { sha256: 'ab'.repeat(32), imageBase: '0x200000', linkBase: '0x1000' },
      clock: { tscFrequencyHz: 1e9, source: 'hypervisor' },
      createdBy: expect.stringMatching(/^@hyperlight-ts\/tracing \d+\.\d+\.\d+/),
    });
    expect(['boolean', 'object']).toContain(typeof file.header.clock.invariantTsc);
    expect(BigInt(file.header.startTimeUnixNano)).toBeGreaterThan(1_700_000_000_000_000_000n);
    const lines = file.lines;
    expect(lines.map((l) => `${l.type}:${'name' in l ? l.name : 'run' in l ? l.run : ''}`)).toEqual([
      'span:init', 'run:1', 'event:hello', 'alloc:2', 'span:inner', 'span:outer', 'free:2', 'span:left open', 'run:2',
    ]);
    const [init, run1, hello, alloc, inner, outer, free, leftOpen, run2] = lines as [any, any, any, any, any, any, any, any, any];
    expect(run1).toMatchObject({ operation: 'init', function: null, error: null });
    expect(run2).toMatchObject({ run: 2, operation: 'call', function: 'Work', error: 'boom' });
    expect(init.end - init.start).toBe(10);
    expect(outer).toMatchObject({ run: 2, parent: null, fields: { n: -1 }, level: 'info', target: 'guest', start: run2.start + 10, end: run2.start + 60 });
    expect(outer.unclosed).toBeUndefined();
    expect(inner).toMatchObject({ parent: outer.id, start: run2.start + 20, end: run2.start + 50 });
    expect(new Set([init.id, inner.id, outer.id, leftOpen.id]).size).toBe(4);
    expect(hello).toMatchObject({ span: inner.id, level: 'error', time: run2.start + 30, fields: {} });
    expect(alloc).toEqual({ type: 'alloc', run: 2, time: run2.start + 40, address: '0x20a010', size: 64, stack: ['0x1f2a0'] });
    expect(free).toMatchObject({ type: 'free', stack: [] });
    expect(leftOpen).toMatchObject({ unclosed: true, end: run2.end });
    expect(file.trailer).toEqual({ type: 'end', records: 9, dropped: { malformed: 0, oversized: 0, unknownSpan: 1, guestLost: 1, limit: 0 } });
  });

  it('with an estimated clock, states the estimate in the header and keeps earlier lines', async () => {
    const path = join(dir, 'estimated.jsonl');
    const tracer = new GuestTracer({ openTelemetry: false, file: path });
    const core = new FakeCore(tracer, sessionInfo({ tscFrequencyHz: undefined }));
    // A 2 GHz guest: run 1 records only its start; run 2 a span whose close is drained at its exact time.
    core.run({ operation: 'init', batches: [{ atNs: 50, bytes: batch(runStart(T, 'init')) }], endNs: 100 });
    const start2 = T + 20_000n;
    core.run({ beginNs: 10_000, batches: [{ atNs: 60_000, bytes: batch(runStart(start2), spanOpen(1, 0, { tsc: start2 + 20_000n }), spanClose(1, start2 + 100_000n)) }], endNs: 70_000 });
    core.session.close();
    const file = await readTraceFile(path);
    expect(file.header.clock.source).toBe('estimated');
    expect(file.header.clock.tscFrequencyHz).toBeCloseTo(2e9, -6);
    expect(file.lines.map((l) => l.type)).toEqual(['run', 'span', 'run']);
    const span = file.lines[1] as { start: number; end: number };
    expect(span.end - span.start).toBe(40_000);
  });

  it('states a nominal frequency when a session never had enough to estimate one', async () => {
    const path = join(dir, 'nominal.jsonl');
    const tracer = new GuestTracer({ openTelemetry: false, file: path });
    const core = new FakeCore(tracer, sessionInfo({ tscFrequencyHz: undefined }));
    core.run({ operation: 'init', batches: [{ atNs: 50, bytes: batch(runStart(T, 'init')) }], endNs: 100 });
    core.session.close();
    const file = await readTraceFile(path);
    expect(file.header.clock).toMatchObject({ source: 'estimated', tscFrequencyHz: NOMINAL_TSC_FREQUENCY_HZ });
    expect(file.lines.map((l) => l.type)).toEqual(['run']);
  });

  it('counts lines refused for the size cap once, in stats and trailer alike', async () => {
    const path = join(dir, 'small.jsonl');
    const tracer = new GuestTracer({ openTelemetry: false, file: path, maxFileSize: 1200 });
    const core = new FakeCore(tracer);
    const records = [runStart(T)];
    for (let id = 1; id <= 20; id += 1) records.push(spanOpen(id, 0, { tsc: T, name: 'x'.repeat(40) }), spanClose(id, T));
    core.run({ batches: [{ atNs: 100, bytes: batch(...records) }], endNs: 200 });
    const refused = tracer.stats.dropped.limit;
    core.session.close();
    const file = await readTraceFile(path);
    expect(refused).toBeGreaterThan(0);
    expect(file.lines.length + refused).toBe(21);
    expect(file.trailer.dropped.limit).toBe(refused);
  });

  it('gives each sandbox of a shared tracer its own file, and refuses a second sandbox without {sandbox}', async () => {
    const shared = new GuestTracer({ openTelemetry: false, file: join(dir, 'guest-{sandbox}-{sandbox}.jsonl') });
    new FakeCore(shared).session.close();
    new FakeCore(shared).session.close();
    expect((await readTraceFile(join(dir, 'guest-2-2.jsonl'))).lines).toEqual([]);
    expect(shared.stats.sessions).toEqual([]);

    const single = new GuestTracer({ openTelemetry: false, file: join(dir, 'one.jsonl') });
    new FakeCore(single).session.close();
    expect(() => new FakeCore(single)).toThrow(/\{sandbox\}/);
  });
});
