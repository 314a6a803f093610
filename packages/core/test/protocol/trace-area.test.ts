import { describe, expect, it } from 'vitest';
import { Abi } from '../../src/abi/generated.js';
import { ConfigurationError } from '../../src/errors.js';
import { LogLevel } from '../../src/protocol/codec.js';
import { encodeTraceHeader, TraceAreaDrain } from '../../src/protocol/trace-area.js';
import type { TraceRunSettings } from '../../src/sandbox/guest-tracing.js';
import { thrown } from '../support/thrown.js';

const OFF: TraceRunSettings = { enabled: false, level: LogLevel.Off, filter: [], runtimeSpans: false, memoryProfile: false, traceparent: undefined };
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function settings(overrides: Partial<TraceRunSettings>): TraceRunSettings {
  return { ...OFF, ...overrides };
}

function configError(fn: () => unknown): ConfigurationError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ConfigurationError);
  expect((error as ConfigurationError).option).toBe('tracing');
  return error as ConfigurationError;
}

describe('encodeTraceHeader', () => {
  it('writes level, flags, filter and traceparent where docs/tracing-format.md puts them, zeros elsewhere', () => {
    const header = encodeTraceHeader(settings({
      enabled: true,
      level: LogLevel.Info,
      filter: [{ prefix: 'app::db', level: LogLevel.Trace }, { prefix: '', level: LogLevel.Warn }, { prefix: 'é', level: LogLevel.Debug }],
      runtimeSpans: true,
      traceparent: TRACEPARENT,
    }));
    expect(header.byteLength).toBe(Abi.TRACE_HEADER_SIZE);
    const view = new DataView(header.buffer);
    expect([view.getUint32(Abi.TRACE_OFFSET_USED, true), view.getUint32(Abi.TRACE_OFFSET_LOST, true)]).toEqual([0, 0]);
    expect(header[Abi.TRACE_OFFSET_LEVEL]).toBe(LogLevel.Info);
    expect(header[Abi.TRACE_OFFSET_FLAGS]).toBe(Abi.TRACE_FLAG_ENABLED | Abi.TRACE_FLAG_RUNTIME_SPANS);
    expect(header[Abi.TRACE_OFFSET_FILTER_COUNT]).toBe(3);
    expect(header[Abi.TRACE_OFFSET_TRACEPARENT_LENGTH]).toBe(55);
    expect(view.getUint32(12, true)).toBe(0); // reserved
    expect(new TextDecoder().decode(header.subarray(Abi.TRACE_OFFSET_TRACEPARENT, Abi.TRACE_OFFSET_TRACEPARENT + 55))).toBe(TRACEPARENT);
    const filter = [...header.subarray(Abi.TRACE_OFFSET_FILTER, Abi.TRACE_OFFSET_FILTER + 15)];
    expect(filter).toEqual([
      LogLevel.Trace, 7, ...new TextEncoder().encode('app::db'),
      LogLevel.Warn, 0,
      LogLevel.Debug, 2, 0xc3, 0xa9,
    ]);
    expect(header.subarray(Abi.TRACE_OFFSET_FILTER + 15).every((b) => b === 0)).toBe(true);
    expect(header.subarray(Abi.TRACE_OFFSET_TRACEPARENT + 55, Abi.TRACE_OFFSET_FILTER).every((b) => b === 0)).toBe(true);
  });

  it.each([
    [{ enabled: true }, Abi.TRACE_FLAG_ENABLED],
    [{ runtimeSpans: true }, Abi.TRACE_FLAG_RUNTIME_SPANS],
    [{ memoryProfile: true }, Abi.TRACE_FLAG_MEMORY],
    [{ enabled: true, runtimeSpans: true, memoryProfile: true }, 7],
    [{}, 0],
  ])('flags of %o are %i', (overrides, flags) => {
    expect(encodeTraceHeader(settings(overrides))[Abi.TRACE_OFFSET_FLAGS]).toBe(flags);
  });

  it('has no traceparent when there is none', () => {
    const header = encodeTraceHeader(OFF);
    expect(header[Abi.TRACE_OFFSET_TRACEPARENT_LENGTH]).toBe(0);
    expect(header.every((b, i) => b === 0 || i === Abi.TRACE_OFFSET_LEVEL)).toBe(true);
  });

  it('fills the filter capacity exactly, and rejects one byte more', () => {
    // Two entries of 2 + 214 bytes take all 432.
    const exact = [{ prefix: 'a'.repeat(214), level: LogLevel.Info }, { prefix: 'b'.repeat(214), level: LogLevel.Warn }];
    const header = encodeTraceHeader(settings({ filter: exact }));
    expect(header[Abi.TRACE_OFFSET_FILTER_COUNT]).toBe(2);
    expect(header[Abi.TRACE_HEADER_SIZE - 1]).toBe('b'.charCodeAt(0));
    const over = [exact[0]!, { prefix: 'b'.repeat(215), level: LogLevel.Warn }];
    expect(configError(() => encodeTraceHeader(settings({ filter: over }))).message).toMatch(/does not fit the 432 bytes.*filter\[1\]/);
    const many = Array.from({ length: 217 }, () => ({ prefix: '', level: LogLevel.Info }));
    expect(configError(() => encodeTraceHeader(settings({ filter: many }))).message).toMatch(/filter\[216\]/);
    expect(encodeTraceHeader(settings({ filter: many.slice(1) }))[Abi.TRACE_OFFSET_FILTER_COUNT]).toBe(216);
  });

  it('rejects a prefix over 255 UTF-8 bytes (counting bytes, not characters)', () => {
    expect(encodeTraceHeader(settings({ filter: [{ prefix: 'x'.repeat(255), level: 0 }] }))[Abi.TRACE_OFFSET_FILTER + 1]).toBe(255);
    expect(configError(() => encodeTraceHeader(settings({ filter: [{ prefix: 'é'.repeat(128), level: 0 }] }))).message)
      .toMatch(/filter\[0\]\.prefix is 256 UTF-8 bytes/);
  });

  it('rejects traceparents that are not printable ASCII of at most 64 bytes', () => {
    expect(encodeTraceHeader(settings({ traceparent: 'x'.repeat(64) }))[Abi.TRACE_OFFSET_TRACEPARENT_LENGTH]).toBe(64);
    for (const traceparent of ['x'.repeat(65), 'tr\u00e9s', 'a\nb', 42 as unknown as string]) {
      expect(configError(() => encodeTraceHeader(settings({ traceparent }))).message).toMatch(/traceparent/);
    }
  });

  it('rejects levels and flags of the wrong type or range, and malformed filters', () => {
    for (const level of [-1, 7, 1.5, Number.NaN, '2']) {
      expect(configError(() => encodeTraceHeader(settings({ level: level as LogLevel }))).message).toMatch(/level must be a LogLevel/);
    }
    expect(configError(() => encodeTraceHeader(settings({ filter: [{ prefix: 'a', level: 9 as LogLevel }] }))).message).toMatch(/filter\[0\]\.level/);
    expect(configError(() => encodeTraceHeader(settings({ enabled: 1 as unknown as boolean }))).message).toMatch(/booleans/);
    expect(configError(() => encodeTraceHeader(settings({ filter: 'app' as unknown as [] }))).message).toMatch(/filter must be an array/);
    expect(configError(() => encodeTraceHeader(settings({ filter: [null as never] }))).message).toMatch(/filter\[0\] must be/);
    expect(configError(() => encodeTraceHeader(undefined as unknown as TraceRunSettings)).message).toMatch(/expected an object/);
  });
});

describe('TraceAreaDrain', () => {
  function area(size = 4096): { bytes: Uint8Array; view: DataView } {
    const buffer = new ArrayBuffer(size + 64);
    const bytes = new Uint8Array(buffer, 32, size); // not at offset 0 of its buffer, as in guest memory
    return { bytes, view: new DataView(buffer, 32, size) };
  }

  it('is undefined when used and lost are both 0, and leaves the area alone', () => {
    const { bytes } = area();
    bytes.fill(0xaa, Abi.TRACE_HEADER_SIZE);
    expect(new TraceAreaDrain(bytes).drain()).toBeUndefined();
    expect(bytes[Abi.TRACE_HEADER_SIZE]).toBe(0xaa);
  });

  it('copies the used bytes and lost, then resets both to 0', () => {
    const { bytes, view } = area();
    view.setUint32(Abi.TRACE_OFFSET_USED, 24, true);
    view.setUint32(Abi.TRACE_OFFSET_LOST, 3, true);
    bytes[Abi.TRACE_OFFSET_FLAGS] = 1;
    for (let i = 0; i < 32; i++) bytes[Abi.TRACE_HEADER_SIZE + i] = i;
    const drain = new TraceAreaDrain(bytes);
    const drained = drain.drain()!;
    expect([...drained.records]).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(drained.lost).toBe(3);
    expect([view.getUint32(Abi.TRACE_OFFSET_USED, true), view.getUint32(Abi.TRACE_OFFSET_LOST, true)]).toEqual([0, 0]);
    expect(bytes[Abi.TRACE_OFFSET_FLAGS]).toBe(1); // the settings stay
    bytes[Abi.TRACE_HEADER_SIZE] = 99;
    expect(drained.records[0]).toBe(99); // a view of the area, not a copy
    expect(drain.drain()).toBeUndefined();
  });

  it('hands over lost alone', () => {
    const { bytes, view } = area();
    view.setUint32(Abi.TRACE_OFFSET_LOST, 0xffff_ffff, true);
    expect(new TraceAreaDrain(bytes).drain()).toEqual({ records: new Uint8Array(), lost: 0xffff_ffff });
  });

  it('takes a used of exactly the rest of the area, and counts anything more as one lost record', () => {
    const { bytes, view } = area();
    const rest = 4096 - Abi.TRACE_HEADER_SIZE;
    view.setUint32(Abi.TRACE_OFFSET_USED, rest, true);
    expect(new TraceAreaDrain(bytes).drain()!.records.byteLength).toBe(rest);
    for (const used of [rest + 1, 0xffff_ffff]) {
      view.setUint32(Abi.TRACE_OFFSET_USED, used, true);
      view.setUint32(Abi.TRACE_OFFSET_LOST, 2, true);
      expect(new TraceAreaDrain(bytes).drain()).toEqual({ records: new Uint8Array(), lost: 3 });
      expect([view.getUint32(Abi.TRACE_OFFSET_USED, true), view.getUint32(Abi.TRACE_OFFSET_LOST, true)]).toEqual([0, 0]);
    }
  });
});
