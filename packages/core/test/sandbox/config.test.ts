import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { DEFAULT_CONFIGURATION, resolveConfiguration } from '../../src/sandbox/config.js';

describe('resolveConfiguration', () => {
  it('fills defaults', () => {
    const config = resolveConfiguration();
    expect(config).toMatchObject(DEFAULT_CONFIGURATION);
    expect(typeof config.print).toBe('function');
  });

  it('keeps given values', () => {
    const print = (): void => undefined;
    expect(resolveConfiguration({ heapSize: 8192, print, backend: 'kvm' })).toMatchObject({ heapSize: 8192, print, backend: 'kvm' });
  });

  it.each([
    ['heapSize', -1],
    ['heapSize', 0],
    ['stackSize', 1.5],
    ['inputSize', Number.NaN],
    ['outputSize', '64k'],
    ['logSize', 2 ** 60],
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
});
