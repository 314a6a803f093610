import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import {
  GuestAbortedError, GuestExceptionError, GuestFunctionError, GuestFunctionNotFoundError, GuestOutOfMemoryError,
  GuestPanicError, PoisonedSandboxError, WrongArgumentCountError, WrongArgumentTypeError, WrongReturnTypeError,
} from '@hyperlight-ts/core';
import { forEachGuest, simpleSandbox } from './support/guests.js';
import { thrown, thrownAs } from './support/thrown.js';

const RUST_SOURCE = readFileSync(new URL('../../../fixtures/guests/rust/simpleguest/src/main.rs', import.meta.url), 'utf8');

/** `line:column` (1-based) of the only occurrence of `code` in the Rust simpleguest's source. */
function rustLocation(code: string): string {
  const lines = RUST_SOURCE.split('\n');
  const hits = lines.flatMap((text, i) => (text.includes(code) ? [`${i + 1}:${text.indexOf(code) + 1}`] : []));
  expect(hits, code).toHaveLength(1);
  return hits[0]!;
}

/** The arguments of a valid PrintElevenArgs call. */
const ELEVEN = ['one', -2, -3_000_000_000n, 4, 5_000_000_000n, 6.5, 7.25, true, 'nine', 10, Uint8Array.of(0xde, 0xad, 0x01)] as const;

forEachGuest('errors', (language) => {
  it('unknown guest function', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestFunctionNotFoundError, () => sandbox.call('NoSuchFunction', 'void'));
    expect(error.code).toBe('HL_ERR_GUEST_FUNCTION_NOT_FOUND');
    expect(error.functionName).toBe('NoSuchFunction');
    expect(error.message).toBe('guest function "NoSuchFunction" not found');
    expect(sandbox.poisoned).toBe(false);
  });

  it('wrong argument count and type are rejected before entering the VM', () => {
    using sandbox = simpleSandbox(language);
    const count = thrownAs(WrongArgumentCountError, () => sandbox.call('EchoString', 'string', 'a', 'b'));
    expect(count.message).toBe('function "EchoString" takes 1 argument but was called with 2');
    const type = thrownAs(WrongArgumentTypeError, () => sandbox.call('EchoString', 'string', 5));
    expect(type.message).toBe('argument 0 of function "EchoString" must be string, got number 5 (expected a string)');
    expect(thrown(() => sandbox.call('EchoI32', 'i32', 2 ** 31))).toBeInstanceOf(WrongArgumentTypeError);
    expect(thrown(() => sandbox.call('EchoI64', 'i64', 5))).toBeInstanceOf(WrongArgumentTypeError);
    expect(thrown(() => sandbox.call('EchoI32', 'string', 1))).toBeInstanceOf(WrongReturnTypeError);
    expect(sandbox.call('EchoString', 'string', 'still fine')).toBe('still fine');
  });

  it('argument count errors name the function and both counts', () => {
    using sandbox = simpleSandbox(language, { print: () => undefined });
    const cases: [string, string, unknown[], string][] = [
      ['PrintElevenArgs', 'string', ELEVEN.slice(0, 10), 'function "PrintElevenArgs" takes 11 arguments but was called with 10'],
      ['PrintElevenArgs', 'string', [...ELEVEN, 12], 'function "PrintElevenArgs" takes 11 arguments but was called with 12'],
      ['VoidFunction', 'void', [1], 'function "VoidFunction" takes 0 arguments but was called with 1'],
      ['Add', 'i32', [], 'function "Add" takes 2 arguments but was called with 0'],
    ];
    for (const [name, returns, args, message] of cases) {
      const error = thrownAs(WrongArgumentCountError, () => sandbox.call(name, returns as 'void', ...args));
      expect(error.code).toBe('HL_ERR_WRONG_ARGUMENT_COUNT');
      expect(error.functionName).toBe(name);
      expect(error.expected).toBe(name === 'PrintElevenArgs' ? 11 : name === 'Add' ? 2 : 0);
      expect(error.actual).toBe(args.length);
      expect(error.message).toBe(message);
    }
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('PrintElevenArgs', 'string', ...ELEVEN)).toBe('one -2 -3000000000 4 5000000000 6.500 7.250 true nine 10 dead01');
  });

  it('argument type errors name the argument, the declared type and what was given', () => {
    using sandbox = simpleSandbox(language);
    const cases: [string, string, unknown[], number, string, string][] = [
      ['EchoBytes', 'bytes', ['ab'], 0, 'bytes', 'string "ab" (expected a Uint8Array)'],
      ['EchoBytes', 'bytes', [[1, 2]], 0, 'bytes', 'array(2) (expected a Uint8Array)'],
      ['EchoU64', 'u64', [-1n], 0, 'u64', 'bigint -1n (out of range for u64 (0 to 18446744073709551615))'],
      ['EchoU64', 'u64', [5], 0, 'u64', 'number 5 (expected a bigint (u64 does not accept numbers))'],
      ['EchoI64', 'i64', [2n ** 63n], 0, 'i64', 'bigint 9223372036854775808n (out of range for i64 (-9223372036854775808 to 9223372036854775807))'],
      ['EchoBool', 'bool', [1], 0, 'bool', 'number 1 (expected a boolean)'],
      ['EchoI32', 'i32', [1.5], 0, 'i32', 'number 1.5 (not an integer)'],
      ['EchoU32', 'u32', [-1], 0, 'u32', 'number -1 (out of range for u32 (0 to 4294967295))'],
      ['EchoI32', 'i32', [5n], 0, 'i32', 'bigint 5n (expected a number, not a bigint)'],
      ['EchoF64', 'f64', ['1.5'], 0, 'f64', 'string "1.5" (expected a number)'],
      ['EchoString', 'string', [undefined], 0, 'string', 'undefined (expected a string)'],
      ['Add', 'i32', [1, null], 1, 'i32', 'null (expected a number)'],
      ['PrintElevenArgs', 'string', [...ELEVEN.slice(0, 10), 'dead01'], 10, 'bytes', 'string "dead01" (expected a Uint8Array)'],
      ['PrintElevenArgs', 'string', [...ELEVEN.slice(0, 4), 2n ** 64n, ...ELEVEN.slice(5)], 4, 'u64', 'bigint 18446744073709551616n (out of range for u64 (0 to 18446744073709551615))'],
      ['PrintElevenArgs', 'string', [...ELEVEN.slice(0, 7), 'true', ...ELEVEN.slice(8)], 7, 'bool', 'string "true" (expected a boolean)'],
    ];
    for (const [name, returns, args, index, type, actual] of cases) {
      const error = thrownAs(WrongArgumentTypeError, () => sandbox.call(name, returns as 'void', ...args));
      expect(error.code).toBe('HL_ERR_WRONG_ARGUMENT_TYPE');
      expect(error.functionName).toBe(name);
      expect(error.index).toBe(index);
      expect(error.expected).toBe(type);
      expect(error.actual).toBe(actual);
      expect(error.message).toBe(`argument ${index} of function "${name}" must be ${type}, got ${actual}`);
    }
    expect(sandbox.poisoned).toBe(false);
  });

  it('the return type passed to call() must be the declared one', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(WrongReturnTypeError, () => sandbox.call('EchoI32', 'string', 1));
    expect(error.code).toBe('HL_ERR_WRONG_RETURN_TYPE');
    expect(error.message).toBe('function "EchoI32" returns i32, not string');
    expect(thrownAs(WrongReturnTypeError, () => sandbox.call('PrintElevenArgs', 'void', ...ELEVEN)).message)
      .toBe('function "PrintElevenArgs" returns string, not void');
    expect(sandbox.poisoned).toBe(false);
  });

  it('a guest function error is reported and does not poison', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestFunctionError, () => sandbox.call('ReturnError', 'void', 'bad input'));
    expect(error.code).toBe('HL_ERR_GUEST_FUNCTION_FAILED');
    expect(error.functionName).toBe('ReturnError');
    expect(error.guestMessage).toBe('bad input');
    expect(error.message).toBe('guest function "ReturnError" failed: bad input');
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
  });

  it('panic carries its message and poisons the sandbox', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestPanicError, () => sandbox.call('Panic', 'void', 'something broke'));
    expect(error.code).toBe('HL_ERR_GUEST_PANICKED');
    expect(error.guestMessage).toContain('something broke');
    expect(error.message).toBe(`guest panicked: ${error.guestMessage}`);
    expect(sandbox.poisoned).toBe(true);
    const next = thrownAs(PoisonedSandboxError, () => sandbox.call('Add', 'i32', 1, 2));
    expect(next.cause).toBe(error);
  });

  it('the panic message format is the guest language\'s', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestPanicError, () => sandbox.call('Panic', 'void', 'déjà vu: 100%'));
    if (language === 'rust') {
      expect(error.guestMessage).toMatch(/^panicked at simpleguest\/src\/main\.rs:\d+:\d+: déjà vu: 100%$/);
      expect(error.guestMessage).toBe(`panicked at simpleguest/src/main.rs:${rustLocation('panic!("{message}")')}: déjà vu: 100%`);
    } else {
      expect(error.guestMessage).toBe('déjà vu: 100%');
    }
  });

  it('a panic message longer than the output buffer arrives whole', () => {
    using sandbox = simpleSandbox(language, { outputSize: 8192 });
    const error = thrownAs(GuestPanicError, () => sandbox.call('PanicLarge', 'void', 10_000));
    const prefix = language === 'rust' ? `panicked at simpleguest/src/main.rs:${rustLocation('panic!("{}", Repeat("x", size))')}: ` : '';
    expect(error.guestMessage).toHaveLength(prefix.length + 10_000);
    expect(error.guestMessage).toBe(prefix + 'x'.repeat(10_000));
    expect(sandbox.poisoned).toBe(true);
  });

  it('a long Panic argument arrives exactly', () => {
    using sandbox = simpleSandbox(language, { outputSize: 8192 });
    const message = 'é'.repeat(6000) + '!'; // 12 001 bytes: more than the output buffer
    const error = thrownAs(GuestPanicError, () => sandbox.call('Panic', 'void', message));
    const prefix = language === 'rust' ? `panicked at simpleguest/src/main.rs:${rustLocation('panic!("{message}")')}: ` : '';
    expect(error.guestMessage).toBe(prefix + message);
  });

  it('abort carries code and message', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestAbortedError, () => sandbox.call('Abort', 'void', 42, 'giving up'));
    expect(error.abortCode).toBe(42);
    expect(error.guestMessage).toBe('giving up');
    expect(sandbox.poisoned).toBe(true);
  });

  for (const code of [0, 1, 255, 0x7fff_ffff, 0x8000_0000, 0x8000_0003, 0xffff_ffff]) {
    it(`abort with code ${code} and a message`, () => {
      using sandbox = simpleSandbox(language);
      const message = `stopped with ${code}`;
      const error = thrownAs(GuestAbortedError, () => sandbox.call('Abort', 'void', code, message));
      expect(error.code).toBe('HL_ERR_GUEST_ABORTED');
      expect(error.abortCode).toBe(code);
      expect(error.guestMessage).toBe(message);
      expect(error.message).toBe(`guest aborted (code ${code}): ${message}`);
      expect(sandbox.poisoned).toBe(true);
      expect(thrownAs(PoisonedSandboxError, () => sandbox.call('Add', 'i32', 1, 2)).cause).toBe(error);
    });
  }

  it('abort with an empty message', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestAbortedError, () => sandbox.call('Abort', 'void', 13, ''));
    expect(error.abortCode).toBe(13);
    expect(error.guestMessage).toBe('');
    expect(error.message).toBe('guest aborted (code 13)');
  });

  it('the runtime\'s panic and out-of-memory abort codes are reported as those errors', () => {
    {
      using sandbox = simpleSandbox(language);
      const panic = thrownAs(GuestPanicError, () => sandbox.call('Abort', 'void', 0x8000_0001, 'as a panic'));
      expect(panic.guestMessage).toBe('as a panic');
      expect(sandbox.poisoned).toBe(true);
    }
    using sandbox = simpleSandbox(language);
    const oom = thrownAs(GuestOutOfMemoryError, () => sandbox.call('Abort', 'void', 0x8000_0002, 'as out of memory'));
    expect(oom.guestMessage).toBe('as out of memory');
    expect(sandbox.poisoned).toBe(true);
  });

  it('an abort message longer than the output buffer arrives whole', () => {
    using sandbox = simpleSandbox(language, { outputSize: 8192 });
    const message = 'abcdefghij'.repeat(5000);
    const error = thrownAs(GuestAbortedError, () => sandbox.call('Abort', 'void', 7, message));
    expect(error.abortCode).toBe(7);
    expect(error.guestMessage).toBe(message);
  });

  it('ud2 is reported as invalid opcode with its address', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestExceptionError, () => sandbox.call('Ud2', 'void'));
    expect(error.vector).toBe(6);
    expect(error.rip).toBeGreaterThan(0n);
    expect(error.errorCode).toBeUndefined();
    expect(error.message).toBe(`guest exception 6 (#UD invalid opcode) at rip 0x${error.rip.toString(16)}`);
    expect(sandbox.poisoned).toBe(true);
  });

  it('a write to a read-only page is a page fault with the address', () => {
    using sandbox = simpleSandbox(language);
    const error = thrownAs(GuestExceptionError, () => sandbox.call('WriteToReadOnly', 'void'));
    expect(error.vector).toBe(14);
    expect(error.faultAddress).toBeGreaterThan(0n);
    // Error code bits: present (1) | write (2) | user (4).
    expect(error.errorCode).toBe(7n);
    expect(sandbox.poisoned).toBe(true);
  });
});
