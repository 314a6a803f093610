import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  GuestBinary, GuestFunctionError, GuestPanicError, HostFunctionError, HostFunctionNotFoundError, MessageTooLargeError,
  PoisonedSandboxError, UninitializedSandbox, type MultiUseSandbox,
} from '@hyperlight-ts/core';
import { describeHypervisor, forEachGuest, registerTestHostFunctions, simpleGuest, simpleSandbox } from './support/guests.js';
import { thrownAs } from './support/thrown.js';

forEachGuest('guest -> host -> guest callbacks', (language) => {
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = simpleSandbox(language);
  });
  afterAll(() => sandbox?.dispose());

  it('a guest function calls a host function and uses its result', () => {
    expect(sandbox.call('CallHostEchoString', 'string', 'ping')).toBe('ping');
    expect(sandbox.call('CallHostAdd', 'i32', 20, 22)).toBe(42);
    expect(sandbox.call('CallHostAdd', 'i32', -20, -22)).toBe(-42);
  });

  it('a host function that throws reaches the guest as an error; the host survives', () => {
    for (let i = 0; i < 3; i++) {
      const error = thrownAs(HostFunctionError, () => sandbox.call('CallHostThrows', 'string'));
      expect(error.code).toBe('HL_ERR_HOST_FUNCTION_FAILED');
      expect(error.functionName).toBe('HostThrows');
      expect(error.detail).toBe('host function refused');
      expect(error.message).toBe('host function "HostThrows" failed: host function refused');
      expect(error.cause).toBeInstanceOf(Error);
      expect((error.cause as Error).message).toBe('host function refused');
      expect(sandbox.poisoned).toBe(false);
    }
    // Not poisoned: the next call works, and a later guest error is not mistaken for the host failure.
    expect(sandbox.call('CallHostAdd', 'i32', 1, 2)).toBe(3);
    const guestError = thrownAs(GuestFunctionError, () => sandbox.call('ReturnError', 'void', 'own error'));
    expect(guestError.guestMessage).toBe('own error');
  });

  it('a host function that throws a non-Error keeps it as the cause', () => {
    using s = UninitializedSandbox.create(simpleGuest(language))
      .register('HostThrows', { params: [], returns: 'string' }, () => {
        throw 'refused as a string';
      })
      .evolve();
    const error = thrownAs(HostFunctionError, () => s.call('CallHostThrows', 'string'));
    expect(error.detail).toBe('refused as a string');
    expect(error.cause).toBe('refused as a string');
    expect(error.message).toBe('host function "HostThrows" failed: refused as a string');
  });

  it('calling an unregistered host function is an error the guest sees', () => {
    const error = thrownAs(HostFunctionNotFoundError, () => sandbox.call('CallMissingHost', 'string'));
    expect(error.code).toBe('HL_ERR_HOST_FUNCTION_NOT_FOUND');
    expect(error.functionName).toBe('NoSuchHostFunction');
    expect(error.message).toBe('host function "NoSuchHostFunction" is not registered');
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('CallHostEchoString', 'string', 'after')).toBe('after');
  });

  it('a host function returning the wrong type is reported, not passed on', () => {
    const u = UninitializedSandbox.create(simpleGuest(language));
    u.register('HostEchoString', { params: ['string'], returns: 'string' }, (() => 42) as unknown as (s: string) => string);
    using s = u.evolve();
    const error = thrownAs(HostFunctionError, () => s.call('CallHostEchoString', 'string', 'x'));
    expect(error.functionName).toBe('HostEchoString');
    expect(error.message).toBe('host function "HostEchoString" failed: returned number 42 but is declared to return string (expected a string)');
    expect(s.poisoned).toBe(false);
  });

  it('a host function whose declared signature differs from the guest\'s call is reported', () => {
    const u = UninitializedSandbox.create(simpleGuest(language));
    u.register('HostAdd', { params: ['i32', 'i32'], returns: 'i64' }, (a, b) => BigInt(a + b));
    using s = u.evolve();
    const error = thrownAs(HostFunctionError, () => s.call('CallHostAdd', 'i32', 1, 2));
    expect(error.message).toBe('host function "HostAdd" failed: returns i64, the guest expected i32');
    expect(s.poisoned).toBe(false);
  });

  it('a host function result bigger than inputSize fails the call without leaking guest memory', () => {
    let oversized = true;
    using s = UninitializedSandbox.create(simpleGuest(language), { inputSize: 16 * 1024 })
      .register('HostEchoBytes', { params: ['bytes'], returns: 'bytes' }, (bytes) => (oversized ? new Uint8Array(20_000) : bytes))
      .evolve();
    // Each call has the guest allocate 50,000 bytes; 40 of them are twice its 1 MiB heap.
    for (let i = 0; i < 40; i++) {
      const error = thrownAs(MessageTooLargeError, () => s.call('CallHostEchoBytesOfSize', 'u32', 50_000));
      expect(error.option).toBe('inputSize');
      expect(error.capacityBytes).toBe(16 * 1024);
      expect(error.sizeBytes).toBeGreaterThan(20_000);
      expect(s.poisoned).toBe(false);
    }
    oversized = false;
    expect(s.call('CallHostEchoBytesOfSize', 'u32', 10)).toBe(10);
    expect(s.call('AllocateBytes', 'u32', 900 * 1024)).toBe(900 * 1024);
  });

  it('1000 host function failures in a row leave the guest\'s small heap intact', () => {
    using s = registerTestHostFunctions(UninitializedSandbox.create(simpleGuest(language), { heapSize: 64 * 1024 })).evolve();
    // The largest block the fresh heap holds, to 1 KiB (an allocation that fails poisons; restore undoes it).
    using fresh = s.snapshot();
    let largest = 64 * 1024;
    for (;;) {
      try {
        s.call('AllocateBytes', 'u32', largest);
        break;
      } catch {
        s.restore(fresh);
        largest -= 1024;
      }
    }
    expect(largest).toBeGreaterThan(16 * 1024);
    for (let i = 0; i < 1000; i++) {
      const error = thrownAs(HostFunctionError, () => s.call('CallHostThrows', 'string'));
      expect(error.message).toBe('host function "HostThrows" failed: host function refused');
    }
    expect(s.poisoned).toBe(false);
    expect(s.call('AllocateBytes', 'u32', largest)).toBe(largest);
  });
});

/** Host functions only the Rust simpleguest calls, on top of the common ones. */
function rustSandbox(calls: unknown[][]): MultiUseSandbox {
  return registerTestHostFunctions(UninitializedSandbox.create(simpleGuest('rust')))
    .register('HostVoid', { params: [], returns: 'void' }, () => {
      calls.push(['HostVoid']);
      return undefined;
    })
    .register(
      'HostMany',
      { params: ['i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'string', 'bool', 'bytes'], returns: 'string' },
      (...args) => {
        calls.push(['HostMany', ...args]);
        return args.map((a) => (a instanceof Uint8Array ? `[${a.join(',')}]` : String(a))).join('|');
      },
    )
    .evolve();
}

describeHypervisor('Rust-only callbacks [rust guest]', () => {
  it('CallHostVoid calls a void host function', () => {
    const calls: unknown[][] = [];
    using sandbox = rustSandbox(calls);
    expect(sandbox.call('CallHostVoid', 'void')).toBeUndefined();
    expect(sandbox.call('CallHostVoid', 'void')).toBeUndefined();
    expect(calls).toEqual([['HostVoid'], ['HostVoid']]);
  });

  it('CallHostMany passes nine arguments of every type in one host call', () => {
    const calls: unknown[][] = [];
    using sandbox = rustSandbox(calls);
    const args = [-(2 ** 31), 2 ** 32 - 1, -(2n ** 63n), 2n ** 64n - 1n, Math.fround(-1.1), Math.PI, 'héllo', true, Uint8Array.of(0, 255)];
    const result = sandbox.call('CallHostMany', 'string', ...args);
    expect(result).toBe(`-2147483648|4294967295|-9223372036854775808|18446744073709551615|${Math.fround(-1.1)}|${Math.PI}|héllo|true|[0,255]`);
    expect(calls).toEqual([['HostMany', ...args]]);
  });

  it('CallHostThrowsUnchecked panics with the host error in the message and poisons', () => {
    using sandbox = rustSandbox([]);
    const error = thrownAs(GuestPanicError, () => sandbox.call('CallHostThrowsUnchecked', 'string'));
    const source = readFileSync(new URL('../../../fixtures/guests/rust/simpleguest/src/main.rs', import.meta.url), 'utf8').split('\n');
    const line = source.findIndex((text) => text.startsWith('fn host_throws_unchecked(')); // 0-based: the attribute's line
    expect(source[line - 1]).toBe('#[host_function("HostThrows")]');
    expect(error.guestMessage).toBe(
      `panicked at simpleguest/src/main.rs:${line}:1: host function "HostThrows" failed (HostFunctionFailed): ` +
        'host function "HostThrows" failed: host function refused',
    );
    expect(sandbox.poisoned).toBe(true);
    expect(thrownAs(PoisonedSandboxError, () => sandbox.call('CallHostVoid', 'void')).cause).toBe(error);
  });
});

it('GuestBinary.fromFile reports a missing file clearly', () => {
  expect(() => GuestBinary.fromFile('/nonexistent/guest.elf')).toThrow(/cannot read \/nonexistent\/guest.elf/);
});
