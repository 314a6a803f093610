import { ConfigurationError, LogLevel } from '@hyperlight-ts/core';
import { describe, expect, it } from 'vitest';

import { DEFAULT_TRACE_LIMITS, DEFAULT_TRACER_SETTINGS, GuestTracer, type GuestTracerOptions } from '../src/index.js';

describe('GuestTracer', () => {
  it('has defaults: info level, runtime spans, no memory profile', () => {
    const tracer = new GuestTracer({ openTelemetry: false });
    expect(tracer.settings).toEqual(DEFAULT_TRACER_SETTINGS);
    expect(tracer.settings).toMatchObject({ enabled: true, level: LogLevel.Info, filter: [], runtimeSpans: false, memoryProfile: false });
    expect(tracer.limits).toEqual(DEFAULT_TRACE_LIMITS);
    expect(tracer.stats).toMatchObject({ records: 0, spans: 0, sessions: [] });
  });

  it('takes levels as names or numbers, and filters by prefix', () => {
    const tracer = new GuestTracer({ openTelemetry: false, level: 'WARN' as 'warn', filter: { 'a::b': 'trace', c: LogLevel.Off, 'ü': 'error' } });
    expect(tracer.settings.level).toBe(LogLevel.Warn);
    expect(tracer.settings.filter).toEqual([
      { prefix: 'a::b', level: LogLevel.Trace }, { prefix: 'c', level: LogLevel.Off }, { prefix: 'ü', level: LogLevel.Error },
    ]);
  });

  const invalid: [string, GuestTracerOptions, string][] = [
    ['an unknown option', { colour: 'red' } as GuestTracerOptions, 'colour'],
    ['a bad level', { level: 'loud' as 'info' }, 'level'],
    ['a level number out of range', { level: 7 as LogLevel }, 'level'],
    ['a bad filter level', { filter: { x: 'nope' as 'info' } }, 'filter["x"]'],
    ['a prefix over 255 bytes', { filter: { ['é'.repeat(128)]: 'info' } }, 'filter'],
    ['a filter over the area', { filter: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`prefix_${i}_abcdefg`, 'info'])) }, 'filter'],
    ['a non-boolean flag', { memoryProfile: 'yes' as unknown as boolean }, 'memoryProfile'],
    ['a callback that is not a function', { onSpan: 3 as unknown as () => void }, 'onSpan'],
    ['a bad openTelemetry', { openTelemetry: 'on' as 'auto' }, 'openTelemetry'],
    ['an empty file path', { file: '' }, 'file'],
    ['a bad file size', { maxFileSize: -1 }, 'maxFileSize'],
    ['an unknown limit', { limits: { maxDepth: 3 } as object }, 'limits.maxDepth'],
    ['a zero limit', { limits: { maxOpenSpans: 0 } }, 'limits.maxOpenSpans'],
  ];
  for (const [name, options, option] of invalid) {
    it(`rejects ${name} with a ConfigurationError`, () => {
      let thrown: unknown;
      try {
        new GuestTracer(options);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).option).toBe(option);
    });
  }

  it('configure() changes only what it names, and nothing when a value is invalid', () => {
    const tracer = new GuestTracer({ openTelemetry: false, filter: { db: 'trace' } });
    tracer.configure({ level: 'debug' });
    expect(tracer.settings).toMatchObject({ level: LogLevel.Debug, filter: [{ prefix: 'db', level: LogLevel.Trace }] });
    const before = tracer.settings;
    expect(() => tracer.configure({ level: 'debug', runtimeSpans: 1 as unknown as boolean })).toThrow(ConfigurationError);
    expect(() => tracer.configure({ file: 'x' } as object)).toThrow(/not a setting/);
    expect(tracer.settings).toBe(before);
    tracer.configure({ filter: {} });
    expect(tracer.settings.filter).toEqual([]);
  });
});
