import { expect, it } from 'vitest';
import {
  GuestAbortedError, GuestExceptionError, GuestFunctionError, GuestFunctionNotFoundError, GuestPanicError,
  PoisonedSandboxError, WrongArgumentCountError, WrongArgumentTypeError, WrongReturnTypeError, type HyperlightError,
} from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox } from './support/guests.js';

function thrown(fn: () => unknown): HyperlightError {
  try {
    fn();
  } catch (error) {
    return error as HyperlightError;
  }
  throw new Error('expected the call to throw');
}

forEachGuest('errors', (language) => {
  it('unknown guest function', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('NoSuchFunction', 'void'));
    expect(error).toBeInstanceOf(GuestFunctionNotFoundError);
    expect(error.message).toBe('guest function "NoSuchFunction" not found');
    expect(sandbox.poisoned).toBe(false);
  });

  it('wrong argument count and type are rejected before entering the VM', () => {
    using sandbox = simpleSandbox(language);
    const count = thrown(() => sandbox.call('EchoString', 'string', 'a', 'b'));
    expect(count).toBeInstanceOf(WrongArgumentCountError);
    expect(count.message).toBe('function "EchoString" takes 1 argument but was called with 2');
    const type = thrown(() => sandbox.call('EchoString', 'string', 5));
    expect(type).toBeInstanceOf(WrongArgumentTypeError);
    expect(type.message).toMatch(/^argument 0 of function "EchoString" must be string, got number 5/);
    expect(thrown(() => sandbox.call('EchoI32', 'i32', 2 ** 31))).toBeInstanceOf(WrongArgumentTypeError);
    expect(thrown(() => sandbox.call('EchoI64', 'i64', 5))).toBeInstanceOf(WrongArgumentTypeError);
    expect(thrown(() => sandbox.call('EchoI32', 'string', 1))).toBeInstanceOf(WrongReturnTypeError);
    expect(sandbox.call('EchoString', 'string', 'still fine')).toBe('still fine');
  });

  it('a guest function error is reported and does not poison', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('ReturnError', 'void', 'bad input'));
    expect(error).toBeInstanceOf(GuestFunctionError);
    expect((error as GuestFunctionError).guestMessage).toBe('bad input');
    expect(sandbox.poisoned).toBe(false);
  });

  it('panic carries its message and poisons the sandbox', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('Panic', 'void', 'something broke'));
    expect(error).toBeInstanceOf(GuestPanicError);
    expect(error.code).toBe('HL_ERR_GUEST_PANICKED');
    expect((error as GuestPanicError).guestMessage).toContain('something broke');
    expect(sandbox.poisoned).toBe(true);
    const next = thrown(() => sandbox.call('Add', 'i32', 1, 2));
    expect(next).toBeInstanceOf(PoisonedSandboxError);
    expect(next.cause).toBe(error);
  });

  it('abort carries code and message', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('Abort', 'void', 42, 'giving up'));
    expect(error).toBeInstanceOf(GuestAbortedError);
    expect((error as GuestAbortedError).abortCode).toBe(42);
    expect((error as GuestAbortedError).guestMessage).toBe('giving up');
  });

  it('an abort message longer than the output buffer arrives whole', () => {
    using sandbox = simpleSandbox(language, { outputSize: 4096 });
    const message = 'abcdefghij'.repeat(5000);
    const error = thrown(() => sandbox.call('Abort', 'void', 7, message));
    expect((error as GuestAbortedError).guestMessage).toBe(message);
  });

  it('ud2 is reported as invalid opcode with its address', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('Ud2', 'void'));
    expect(error).toBeInstanceOf(GuestExceptionError);
    expect((error as GuestExceptionError).vector).toBe(6);
    expect((error as GuestExceptionError).rip).toBeGreaterThan(0n);
    expect(sandbox.poisoned).toBe(true);
  });

  it('a write to a read-only page is a page fault with the address', () => {
    using sandbox = simpleSandbox(language);
    const error = thrown(() => sandbox.call('WriteToReadOnly', 'void'));
    expect(error).toBeInstanceOf(GuestExceptionError);
    expect((error as GuestExceptionError).vector).toBe(14);
    expect((error as GuestExceptionError).faultAddress).toBeDefined();
    // Error code bits: present (1) | write (2) | user (4).
    expect((error as GuestExceptionError).errorCode).toBe(7n);
  });
});
