import { expect, it, vi } from 'vitest';
import { HostCallbackError } from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox } from './support/guests.js';

forEachGuest('host print', (language) => {
  it('goes to standard output by default', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      using sandbox = simpleSandbox(language);
      expect(sandbox.call('Print', 'u32', 'to stdout\n')).toBe(10);
      expect(write.mock.calls.map((c) => String(c[0]))).toContain('to stdout\n');
    } finally {
      write.mockRestore();
    }
  });

  it('an override receives the exact text, in order', () => {
    const printed: string[] = [];
    using sandbox = simpleSandbox(language, { print: (text) => printed.push(text) });
    expect(sandbox.call('Print', 'u32', 'héllo 🦀')).toBe(new TextEncoder().encode('héllo 🦀').length);
    expect(sandbox.call('Print', 'u32', '')).toBe(0);
    expect(sandbox.call('Print', 'u32', 'second')).toBe(6);
    expect(printed.join('')).toBe('héllo 🦀second');
  });

  it('text longer than the output buffer arrives whole', () => {
    const printed: string[] = [];
    using sandbox = simpleSandbox(language, { outputSize: 8192, print: (text) => printed.push(text) });
    const text = 'abcdefghij'.repeat(1000);
    expect(sandbox.call('Print', 'u32', text)).toBe(10_000);
    expect(printed.join('')).toBe(text);
  });

  it('a throwing print function fails the call with HostCallbackError, not the sandbox', () => {
    using sandbox = simpleSandbox(language, {
      print: () => {
        throw new Error('terminal closed');
      },
    });
    const error = (() => {
      try {
        sandbox.call('Print', 'u32', 'x');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(HostCallbackError);
    expect((error as HostCallbackError).message).toBe("the sandbox's print callback threw: terminal closed");
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Add', 'i32', 2, 2)).toBe(4);
  });
});
