import { afterAll, beforeAll, expect, it } from 'vitest';
import { GuestBinary, HostFunctionError, HostFunctionNotFoundError, UninitializedSandbox, type MultiUseSandbox } from '@hyperlight-ts/core';
import { forEachGuest, simpleGuest, simpleSandbox } from './support/guests.js';

forEachGuest('guest -> host -> guest callbacks', (language) => {
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = simpleSandbox(language);
  });
  afterAll(() => sandbox?.dispose());

  it('a guest function calls a host function and uses its result', () => {
    expect(sandbox.call('CallHostEchoString', 'string', 'ping')).toBe('ping');
    expect(sandbox.call('CallHostAdd', 'i32', 20, 22)).toBe(42);
  });

  it('a host function that throws reaches the guest as an error; the host survives', () => {
    const error = (() => {
      try {
        sandbox.call('CallHostThrows', 'string');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HostFunctionError);
    expect((error as HostFunctionError).code).toBe('HL_ERR_HOST_FUNCTION_FAILED');
    expect((error as HostFunctionError).functionName).toBe('HostThrows');
    expect(((error as Error).cause as Error).message).toBe('host function refused');
    // Not poisoned: the next call works.
    expect(sandbox.call('CallHostAdd', 'i32', 1, 2)).toBe(3);
  });

  it('calling an unregistered host function is an error the guest sees', () => {
    expect(() => sandbox.call('CallMissingHost', 'string')).toThrow(HostFunctionNotFoundError);
    expect(sandbox.poisoned).toBe(false);
  });

  it('a host function returning the wrong type is reported, not passed on', () => {
    const u = UninitializedSandbox.create(simpleGuest(language));
    u.register('HostEchoString', { params: ['string'], returns: 'string' }, (() => 42) as unknown as (s: string) => string);
    using s = u.evolve();
    expect(() => s.call('CallHostEchoString', 'string', 'x')).toThrow(/declared to return string/);
  });
});

it('GuestBinary.fromFile reports a missing file clearly', () => {
  expect(() => GuestBinary.fromFile('/nonexistent/guest.elf')).toThrow(/cannot read \/nonexistent\/guest.elf/);
});
