import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { LogLevel } from '../../src/protocol/codec.js';
import { DEFAULT_CONFIGURATION, resolveConfiguration } from '../../src/sandbox/config.js';
import { consoleLogger } from '../../src/sandbox/logging.js';

describe('resolveConfiguration', () => {
  it('fills defaults', () => {
    const config = resolveConfiguration();
    expect(config).toMatchObject(DEFAULT_CONFIGURATION);
    expect(typeof config.print).toBe('function');
  });

  it('keeps given values', () => {
    const print = (): void => undefined;
    expect(resolveConfiguration({ heapSize: 8192, print, backend: 'kvm' })).toMatchObject({ heapSize: 8192, print, backend: 'kvm' });
    expect(resolveConfiguration({ timeoutMs: 2.5 }).timeoutMs).toBe(2.5);
    expect(resolveConfiguration().timeoutMs).toBeUndefined();
  });

  it.each([
    ['heapSize', -1],
    ['heapSize', 0],
    ['stackSize', 1.5],
    ['inputSize', Number.NaN],
    ['outputSize', '64k'],
    ['logSize', 2 ** 60],
    ['traceSize', 0],
    ['traceSize', '64k'],
    ['tracing', {}],
    ['tracing', () => undefined],
    ['tracing', null],
    ['timeoutMs', 0],
    ['timeoutMs', Infinity],
    ['timeoutMs', '100'],
    ['clock', 0],
    ['clock', null],
    ['clock', { now: () => 0n }],
  ])('rejects %s = %s with a typed error naming the option', (option, value) => {
    const error = (() => {
      try {
        resolveConfiguration({ [option]: value } as never);
      } catch (e) {
        return e as ConfigurationError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.code).toBe('HL_ERR_CONFIG_INVALID');
    expect(error?.option).toBe(option);
  });

  it('rejects unknown options, a bad print function and a bad backend', () => {
    expect(() => resolveConfiguration({ heapsize: 1 } as never)).toThrow(/unknown option/);
    expect(() => resolveConfiguration({ print: 'stdout' } as never)).toThrow(ConfigurationError);
    expect(() => resolveConfiguration({ backend: 42 } as never)).toThrow(ConfigurationError);
  });

  it('has a 64 KiB trace area and no tracing by default; keeps a collector', () => {
    expect(DEFAULT_CONFIGURATION.traceSize).toBe(64 * 1024);
    expect(resolveConfiguration()).toMatchObject({ traceSize: 64 * 1024, tracing: undefined });
    const tracing = { open: () => ({ beginRun: () => undefined as never, records: () => undefined, endRun: () => undefined, close: () => undefined }) };
    expect(resolveConfiguration({ tracing, traceSize: 8192 })).toMatchObject({ tracing, traceSize: 8192 });
  });

  it('uses the real clocks by default and keeps a clock function', () => {
    expect(resolveConfiguration().clock).toBeUndefined();
    const clock = (): bigint => 0n;
    expect(resolveConfiguration({ clock }).clock).toBe(clock);
  });

  it('logging is off unless configured', () => {
    expect(resolveConfiguration()).toMatchObject({ logger: undefined, maxLogLevel: LogLevel.Off });
    const logger = (): void => undefined;
    expect(resolveConfiguration({ logger })).toMatchObject({ logger, maxLogLevel: LogLevel.Info });
    expect(resolveConfiguration({ logger, maxLogLevel: 'trace' })).toMatchObject({ logger, maxLogLevel: LogLevel.Trace });
    expect(resolveConfiguration({ maxLogLevel: LogLevel.Warn })).toMatchObject({ logger: consoleLogger, maxLogLevel: LogLevel.Warn });
    expect(resolveConfiguration({ logger, maxLogLevel: 'off' }).logger).toBeUndefined();
  });

  it.each([
    ['maxLogLevel', 'verbose'],
    ['maxLogLevel', 7],
    ['maxLogLevel', -1],
    ['maxLogLevel', 2.5],
    ['logger', 'console'],
    ['initData', 'text'],
    ['initData', [1, 2, 3]],
  ])('rejects %s = %j', (option, value) => {
    expect(() => resolveConfiguration({ [option]: value } as never)).toThrow(expect.objectContaining({ code: 'HL_ERR_CONFIG_INVALID', option }));
  });

  it('copies init data, which defaults to empty', () => {
    expect(resolveConfiguration().initData).toEqual(new Uint8Array());
    const blob = Buffer.from('seed');
    const { initData } = resolveConfiguration({ initData: blob });
    blob[0] = 0;
    expect(new TextDecoder().decode(initData)).toBe('seed');
  });
});
