/**
 * Guest tracing end to end: the traced fixture guests (Rust and C) record
 * spans, events and allocations in real VMs, and the collector of
 * @hyperlight-ts/tracing turns them into spans, OpenTelemetry spans and trace
 * files that hyperlight-trace-dump reads.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  GuestBinary, GuestPanicError, readElfSymbols, UninitializedSandbox, type MultiUseSandbox, type SandboxConfiguration,
} from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import {
  GuestTracer, readTraceFile, type GuestTracerOptions, type MemoryLine, type TraceEvent, type TraceMemoryEvent, type TraceRun, type TraceSpan,
} from '@hyperlight-ts/tracing';
import { countingBackend } from './support/counting-backend.js';
import { forEachGuest, type GuestLanguage } from './support/guests.js';

const run = promisify(execFile);
const traceDump = join(dirname(createRequire(import.meta.url).resolve('@hyperlight-ts/trace-dump/package.json')), 'bin', 'hyperlight-trace-dump.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'hl-tracing-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;

/** What a traced sandbox delivered through the streaming callbacks. */
interface Collected {
  spans: TraceSpan[];
  events: TraceEvent[];
  memory: TraceMemoryEvent[];
  runs: TraceRun[];
}

function tracedGuest(language: GuestLanguage): GuestBinary {
  return GuestBinary.fromFile(guestPath(language, 'tracedguest'));
}

/** An evolved tracedguest sandbox; `HostTraceparent` answers `CallHost` with the traceparent it was given. */
function tracedSandbox(language: GuestLanguage, config: SandboxConfiguration = {}): MultiUseSandbox {
  const u = UninitializedSandbox.create(tracedGuest(language), config);
  u.register('HostTraceparent', { params: ['string'], returns: 'string' }, (traceparent) => `host saw ${traceparent}`);
  return u.evolve();
}

/** A tracer collecting into arrays, with `options` on top. */
function collectingTracer(options: GuestTracerOptions = {}): { tracer: GuestTracer; got: Collected } {
  const got: Collected = { spans: [], events: [], memory: [], runs: [] };
  const tracer = new GuestTracer({
    level: 'trace',
    onSpan: (s) => got.spans.push(s),
    onEvent: (e) => got.events.push(e),
    onMemory: (m) => got.memory.push(m),
    onRun: (r) => got.runs.push(r),
    ...options,
  });
  return { tracer, got };
}

/** Spans and events of the last run only. */
function lastRun(got: Collected): { spans: TraceSpan[]; events: TraceEvent[]; memory: TraceMemoryEvent[] } {
  const last = got.runs.at(-1)!.run;
  return {
    spans: got.spans.filter((s) => s.run === last),
    events: got.events.filter((e) => e.run === last),
    memory: got.memory.filter((m) => m.run === last),
  };
}

forEachGuest('guest tracing', (language) => {
  it('delivers nested spans and events with names, fields and monotonic times', () => {
    const { tracer, got } = collectingTracer();
    using sandbox = tracedSandbox(language, { tracing: tracer });
    expect(sandbox.call('Nested', 'i32', 4)).toBe(4);
    const { spans, events } = lastRun(got);
    const levels = spans.filter((s) => s.name === 'level');
    expect(levels).toHaveLength(4);
    // Spans end innermost first; each is the parent of the one before it.
    expect(levels.map((s) => s.fields.depth)).toEqual([4, 3, 2, 1]);
    for (let i = 0; i + 1 < levels.length; i++) {
      expect(levels[i]!.parentId).toBe(levels[i + 1]!.id);
      expect(levels[i]!.startNs).toBeGreaterThanOrEqual(levels[i + 1]!.startNs);
      expect(levels[i]!.endNs).toBeLessThanOrEqual(levels[i + 1]!.endNs);
    }
    for (const s of levels) {
      expect(s.endNs).toBeGreaterThanOrEqual(s.startNs);
      expect(s.unclosed).toBe(false);
      expect(s.level).toBe('info');
    }
    const bottom = events.filter((e) => e.name === 'bottom');
    expect(bottom).toHaveLength(1);
    expect(bottom[0]!.fields.depth).toBe(4);
    expect(bottom[0]!.spanId).toBe(levels[0]!.id);
    expect(bottom[0]!.timeNs).toBeGreaterThanOrEqual(levels[0]!.startNs);
    expect(bottom[0]!.timeNs).toBeLessThanOrEqual(levels[0]!.endNs);
    // The run's tree has the same shape.
    const tree = got.runs.at(-1)!;
    expect(tree.functionName).toBe('Nested');
    const chain: string[] = [];
    for (let node = tree.spans.find((s) => s.name === 'level'); node; node = node.children[0]) chain.push(`${node.name}:${String(node.fields.depth)}`);
    expect(chain).toEqual(['level:1', 'level:2', 'level:3', 'level:4']);
  });

  it('keeps field types and levels', () => {
    const { tracer, got } = collectingTracer();
    using sandbox = tracedSandbox(language, { tracing: tracer });
    sandbox.call('FieldTypes', 'i32');
    const { spans, events } = lastRun(got);
    const span = spans.find((s) => s.name === 'fields');
    expect(span?.fields).toMatchObject({ s: 'text', i: -5, u: 7, f: 1.5, b: true });
    const levelEvents = events.filter((e) => e.target === 'tracedguest::levels');
    expect(levelEvents.map((e) => [e.name, e.level])).toEqual(LEVELS.map((l) => [l, l]));
    const times = events.map((e) => e.timeNs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('filters by level and by target, set at run time', () => {
    const { tracer, got } = collectingTracer({ level: 'warn' });
    using sandbox = tracedSandbox(language, { tracing: tracer });
    sandbox.call('FieldTypes', 'i32');
    expect(lastRun(got).events.map((e) => e.name)).toEqual(['warn', 'error', 'critical']);
    expect(lastRun(got).spans.some((s) => s.name === 'fields')).toBe(false);
    tracer.configure({ level: 'trace', filter: { 'tracedguest::levels': 'error' } });
    sandbox.call('FieldTypes', 'i32');
    expect(lastRun(got).events.filter((e) => e.target === 'tracedguest::levels').map((e) => e.name)).toEqual(['error', 'critical']);
    expect(lastRun(got).spans.some((s) => s.name === 'fields')).toBe(true);
  });

  it('flushes a full area and delivers every event once, in order', () => {
    const { backend, runs } = countingBackend();
    const { tracer, got } = collectingTracer();
    using sandbox = tracedSandbox(language, { tracing: tracer, backend, traceSize: 16 * 1024 });
    const before = runs();
    expect(sandbox.call('Fill', 'i32', 600)).toBe(600);
    const exits = runs() - before;
    const fills = lastRun(got).events.filter((e) => e.name.startsWith('fill '));
    expect(fills.map((e) => e.name)).toEqual(Array.from({ length: 600 }, (_, n) => `fill ${n}`));
    expect(fills.every((e) => typeof e.fields.pad === 'string' && e.fields.pad.length >= 100)).toBe(true);
    // ~600 × ~250 bytes through a 16 KiB area: several flush exits, but one per area-full, not one per event.
    expect(exits).toBeGreaterThan(5);
    expect(exits).toBeLessThan(60);
    expect(tracer.stats.dropped.guestLost).toBe(0);
  });

  it('delivers each batch exactly once across host calls, and hands the traceparent to the guest', () => {
    const exporter = new InMemorySpanExporter();
    const otelProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const { tracer, got } = collectingTracer({ runtimeSpans: true, openTelemetry: otelProvider.getTracer('acceptance') });
    using sandbox = tracedSandbox(language, { tracing: tracer });
    const app = otelProvider.getTracer('app').startSpan('request');
    const answer = context.with(trace.setSpan(context.active(), app), () => sandbox.call('CallHost', 'string', 'HostTraceparent'));
    app.end();
    const { spans } = lastRun(got);
    expect(spans.filter((s) => s.name === 'outbound')).toHaveLength(1);
    expect(spans.filter((s) => s.name === 'host_call')).toHaveLength(1);
    expect(spans.filter((s) => s.name === 'guest_call')).toHaveLength(1);
    expect(spans.find((s) => s.name === 'guest_call')!.fields.function).toBe('CallHost');
    expect(spans.find((s) => s.name === 'host_call')!.fields.function).toBe('HostTraceparent');
    expect(new Set(got.spans.map((s) => `${s.run}/${s.id}`)).size).toBe(got.spans.length);

    const finished = exporter.getFinishedSpans();
    const host = finished.find((s) => s.name === 'hyperlight.guest_call CallHost')!;
    expect(host).toBeDefined();
    expect(host.parentSpanContext?.spanId).toBe(app.spanContext().spanId);
    const { traceId, spanId } = host.spanContext();
    expect(answer).toBe(`host saw 00-${traceId}-${spanId}-01`);
    const guestCall = finished.find((s) => s.name === 'guest_call')!;
    expect(guestCall.parentSpanContext?.spanId).toBe(spanId);
    const outbound = finished.find((s) => s.name === 'outbound')!;
    expect(outbound.spanContext().traceId).toBe(traceId);
    expect(finished.find((s) => s.name === 'host_call')!.parentSpanContext?.spanId).toBe(outbound.spanContext().spanId);
  });

  it('records nothing and adds no exit when tracing is off or disabled', () => {
    for (const tracing of [undefined, new GuestTracer({ enabled: false, runtimeSpans: true })]) {
      const { backend, runs } = countingBackend();
      using sandbox = tracedSandbox(language, { tracing, backend, traceSize: 16 * 1024 });
      const before = runs();
      sandbox.call('Fill', 'i32', 600);
      sandbox.call('Nested', 'i32', 8);
      expect(runs() - before).toBe(2);
      if (tracing) expect(tracing.stats).toMatchObject({ records: 0, spans: 0, events: 0 });
    }
  });

  it("carries a traced call's records on the exit it takes anyway", () => {
    const { backend, runs } = countingBackend();
    const { tracer, got } = collectingTracer({ runtimeSpans: true });
    using sandbox = tracedSandbox(language, { tracing: tracer, backend });
    const before = runs();
    expect(sandbox.call('Nested', 'i32', 8)).toBe(8);
    expect(runs() - before).toBe(1);
    expect(lastRun(got).spans.filter((s) => s.name === 'level')).toHaveLength(8);
    expect(lastRun(got).spans.filter((s) => s.name === 'guest_call')).toHaveLength(1);
  });

  it('closes spans the guest left open when it panics', () => {
    const { tracer, got } = collectingTracer();
    using sandbox = tracedSandbox(language, { tracing: tracer });
    expect(() => sandbox.call('Panic', 'i32')).toThrow(GuestPanicError);
    const spans = lastRun(got).spans;
    expect(spans.length).toBeGreaterThanOrEqual(2);
    // The runtime closed them before it aborted: the collector did not have to.
    expect(spans.every((s) => !s.unclosed)).toBe(true);
    expect(got.runs.at(-1)!.error).toBeInstanceOf(GuestPanicError);
  });

  it('profiles memory: exactly the allocation pattern, with symbolized sites', async () => {
    const file = join(scratch, `${language}-alloc.jsonl`);
    const { tracer, got } = collectingTracer({ memoryProfile: true, file });
    {
      using sandbox = tracedSandbox(language, { tracing: tracer });
      sandbox.call('AllocPattern', 'i32');
    }
    const memory = lastRun(got).memory;
    const allocs = memory.filter((m) => m.kind === 'alloc' && [1000, 2000, 3000].includes(m.size));
    expect(allocs.map((m) => m.size)).toEqual([1000, 2000, 3000]);
    const byAddress = new Map(allocs.map((m) => [m.address, m.size]));
    const frees = memory.filter((m) => m.kind === 'free' && byAddress.has(m.address));
    expect(frees.map((m) => byAddress.get(m.address))).toEqual([2000, 1000, 3000]);
    // Every block the pattern allocated is freed after it was allocated.
    for (const f of frees) expect(f.timeNs).toBeGreaterThanOrEqual(allocs.find((a) => a.address === f.address)!.timeNs);

    const { header, lines } = await readTraceFile(file);
    const elf = readFileSync(guestPath(language, 'tracedguest'));
    const symbols = readElfSymbols(elf).filter((s) => s.kind === 'function');
    const symbolAt = (address: string): string | undefined => {
      const link = BigInt(address) - BigInt(header.guest.imageBase) + BigInt(header.guest.linkBase);
      return symbols.find((s) => link >= s.value && link < s.value + (s.size || 1n))?.name;
    };
    const fileAllocs = lines.filter((l): l is MemoryLine => l.type === 'alloc' && [1000, 2000, 3000].includes(l.size));
    expect(fileAllocs.map((l) => l.size)).toEqual([1000, 2000, 3000]);
    const sites = fileAllocs.map((l) => l.stack.map(symbolAt).filter((n): n is string => n !== undefined));
    for (const [i, name] of ['alloc_a', 'alloc_b', 'alloc_c'].entries()) {
      expect(sites[i]!.some((n) => n.includes(name)), `${name} in ${sites[i]!.join(' < ')}`).toBe(true);
    }
  });

  it('rejects malformed, oversized and flooded records, counts them, and stays bounded', () => {
    const { tracer } = collectingTracer();
    using sandbox = tracedSandbox(language, { tracing: tracer, traceSize: 16 * 1024 });
    const record = (kind: number, size: number, body: number[] = []): number[] => {
      const bytes = [kind, 2, size & 0xff, size >> 8, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, ...body];
      while (bytes.length % 8) bytes.push(0);
      return bytes;
    };
    const cases: [string, number[], number, number][] = [
      ['size below the header', record(2, 8), 16, 0],
      ['size beyond used', record(2, 64), 16, 0],
      ['unknown kind', record(99, 16), 16, 0],
      ['close of a span never opened', record(2, 16), 16, 0],
      ['used beyond the area', record(2, 16), 1 << 30, 0],
      ['oversized record', [...record(1, 4096 + 8).slice(0, 16)], 16, 0],
      ['guest-reported loss', [], 0, 7],
    ];
    for (const [what, bytes, used, lost] of cases) {
      const before = JSON.stringify(tracer.stats.dropped);
      expect(sandbox.call('RawRecords', 'i32', Uint8Array.from(bytes), used, lost), what).toBe(0);
      expect(JSON.stringify(tracer.stats.dropped), what).not.toBe(before);
    }
    expect(tracer.stats.dropped.guestLost).toBeGreaterThanOrEqual(7);
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    expect(sandbox.call('RawFlood', 'i32', 2000)).toBe(0);
    global.gc?.();
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    expect(tracer.stats.dropped.malformed).toBeGreaterThan(0);
    // The sandbox is not poisoned, and tracing still works.
    expect(sandbox.call('Nested', 'i32', 2)).toBe(2);
  });

  it('writes a trace file that reads back as delivered, and every trace-dump command runs on it', async () => {
    const file = join(scratch, `${language}-calls.jsonl`);
    const { tracer, got } = collectingTracer({ file, runtimeSpans: true, memoryProfile: true });
    {
      using sandbox = tracedSandbox(language, { tracing: tracer });
      sandbox.call('Nested', 'i32', 3);
      sandbox.call('FieldTypes', 'i32');
      sandbox.call('AllocPattern', 'i32');
      sandbox.call('CallHost', 'string', 'HostTraceparent');
    }
    const { header, lines, trailer } = await readTraceFile(file);
    const elf = readFileSync(guestPath(language, 'tracedguest'));
    expect(header.guest.sha256).toBe(createHashHex(elf));
    const spanLines = lines.filter((l) => l.type === 'span');
    expect(spanLines.map((s) => s.name)).toEqual(got.spans.map((s) => s.name));
    expect(lines.filter((l) => l.type === 'event')).toHaveLength(got.events.length);
    expect(lines.filter((l) => l.type === 'run').map((r) => r.type === 'run' && r.function)).toEqual([null, 'Nested', 'FieldTypes', 'AllocPattern', 'CallHost']);
    expect(trailer.records).toBe(lines.length);

    const guest = guestPath(language, 'tracedguest');
    const out = (name: string): string => join(scratch, `${language}-${name}`);
    const summary = await run(process.execPath, [traceDump, 'summary', file, '--guest', guest]);
    expect(summary.stdout).toMatch(/level/);
    const tree = await run(process.execPath, [traceDump, 'tree', file]);
    expect(tree.stdout).toMatch(/level[\s\S]*level[\s\S]*level/);
    await run(process.execPath, [traceDump, 'perfetto', file, '-o', out('trace.json')]);
    const perfetto = JSON.parse(readFileSync(out('trace.json'), 'utf8')) as { traceEvents: { ph: string; name: string }[] };
    expect(perfetto.traceEvents.filter((e) => e.ph === 'X' && e.name === 'level')).toHaveLength(3);
    await run(process.execPath, [traceDump, 'flame', file, '-o', out('flame.svg')]);
    expect(readFileSync(out('flame.svg'), 'utf8')).toMatch(/<svg[\s\S]*level/);
    await run(process.execPath, [traceDump, 'flame', file, '--alloc', '--guest', guest, '-o', out('alloc.svg')]);
    expect(readFileSync(out('alloc.svg'), 'utf8')).toMatch(/alloc_c/);
    const mem = await run(process.execPath, [traceDump, 'mem', file, '--guest', guest, '-o', out('mem.svg')]);
    expect(mem.stdout).toMatch(/alloc_c/);
    expect(readFileSync(out('mem.svg'), 'utf8')).toMatch(/<svg/);
  });
});

function createHashHex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

forEachGuest('guest tracing compiled in', (language) => {
  it('answers like the untraced guest', () => {
    using plain = tracedSandbox(language);
    using traced = tracedSandbox(language, { tracing: new GuestTracer() });
    for (const value of [0, -1, 2 ** 31 - 1]) expect(traced.call('EchoI32', 'i32', value)).toBe(plain.call('EchoI32', 'i32', value));
  });
});
