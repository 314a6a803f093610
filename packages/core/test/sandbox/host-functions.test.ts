import { describe, expect, it } from 'vitest';
import { HostFunctionError, HostFunctionNotFoundError, InvalidHostFunctionError, MessageTooLargeError } from '../../src/errors.js';
import { decodeFunctionCallResult, ErrorCode, type CallResult, type FunctionCallMessage } from '../../src/protocol/codec.js';
import { readFrame } from '../../src/protocol/framing.js';
import { ResultEncoder } from '../../src/protocol/result-encoder.js';
import { HostFunctionRegistry, type ReplyWriter } from '../../src/sandbox/host-functions.js';

const call = (functionName: string, args: FunctionCallMessage['args'], returnType: FunctionCallMessage['returnType']): FunctionCallMessage =>
  ({ functionName, args, returnType });

function registry(): HostFunctionRegistry {
  const r = new HostFunctionRegistry();
  r.register('Add', { params: ['i32', 'i32'], returns: 'i32' }, (a: number, b: number) => a + b);
  r.register('Big', { params: ['u32'], returns: 'bytes' }, (n: number) => new Uint8Array(n));
  r.register('Throws', { params: [], returns: 'void' }, () => {
    throw new RangeError('nope');
  });
  r.register('Lies', { params: [], returns: 'i32' }, () => 'not a number');
  r.register('Async', { params: [], returns: 'i32' }, async () => 1);
  r.register('Rejects', { params: [], returns: 'i32' }, async () => {
    throw new RangeError('later');
  });
  r.register('AsyncLies', { params: [], returns: 'i32' }, async () => 'x');
  return r;
}

/** Lets `write` write its reply into an input buffer of `capacityBytes` and decodes it. */
function written(write: ReplyWriter, capacityBytes = 1 << 20): CallResult {
  const input = new Uint8Array(capacityBytes);
  write(new ResultEncoder(input));
  return decodeFunctionCallResult(readFrame(input));
}

/** The decoded reply to a guest's call. */
const invoke = (r: HostFunctionRegistry, c: FunctionCallMessage) => written(r.reply(c));
const invokeAsync = async (r: HostFunctionRegistry, c: FunctionCallMessage) => written(await r.replyAsync(c));

describe('HostFunctionRegistry', () => {
  it('runs a call and clears the last failure', () => {
    const r = registry();
    invoke(r, call('Missing', [], 'void'));
    expect(invoke(r, call('Add', [{ type: 'i32', value: 2 }, { type: 'i32', value: 3 }], 'i32'))).toEqual({ ok: true, value: { type: 'i32', value: 5 } });
    expect(r.lastFailure).toBeUndefined();
  });

  it.each([
    ['an unregistered name', call('Missing', [], 'void'), ErrorCode.HostFunctionNotFound, HostFunctionNotFoundError, 'host function "Missing" is not registered'],
    ['too few arguments', call('Add', [{ type: 'i32', value: 1 }], 'i32'), ErrorCode.WrongArgumentCount, HostFunctionError, 'takes 2 arguments but the guest passed 1'],
    ['a wrong argument type', call('Add', [{ type: 'i32', value: 1 }, { type: 'i64', value: 1n }], 'i32'), ErrorCode.WrongArgumentType, HostFunctionError, 'argument 1 must be i32, the guest passed i64'],
    ['a wrong return type', call('Add', [{ type: 'i32', value: 1 }, { type: 'i32', value: 1 }], 'u32'), ErrorCode.WrongReturnType, HostFunctionError, 'returns i32, the guest expected u32'],
    ['a throwing function', call('Throws', [], 'void'), ErrorCode.HostFunctionFailed, HostFunctionError, 'host function "Throws" failed: nope'],
    ['a value of the wrong type', call('Lies', [], 'i32'), ErrorCode.HostFunctionFailed, HostFunctionError, 'returned string "not a number" but is declared to return i32'],
    ['a Promise (outside callAsync)', call('Async', [], 'i32'), ErrorCode.HostFunctionFailed, HostFunctionError, 'returned a Promise; async host functions need callAsync()'],
  ])('%s becomes a CallError and is remembered with its code', (_, c, code, Class, text) => {
    const r = registry();
    const result = invoke(r, c);
    expect(result).toMatchObject({ ok: false, code });
    expect(r.lastFailure?.code).toBe(code);
    expect(r.lastFailure?.error).toBeInstanceOf(Class);
    expect(r.lastFailure?.error.message).toContain(text);
    expect(!result.ok && result.message).toBe(r.lastFailure?.error.message);
  });

  it('replyAsync waits for an async host function', async () => {
    const r = registry();
    invoke(r, call('Missing', [], 'void'));
    expect(await invokeAsync(r, call('Async', [], 'i32'))).toEqual({ ok: true, value: { type: 'i32', value: 1 } });
    expect(r.lastFailure).toBeUndefined();
    expect(await invokeAsync(r, call('Add', [{ type: 'i32', value: 2 }, { type: 'i32', value: 3 }], 'i32'))).toMatchObject({ ok: true });
  });

  it.each([
    ['a rejection', 'Rejects', 'host function "Rejects" failed: later'],
    ['a resolved value of the wrong type', 'AsyncLies', 'returned string "x" but is declared to return i32'],
  ])('replyAsync turns %s into a CallError', async (_, name, text) => {
    const r = registry();
    const result = await invokeAsync(r, call(name, [], 'i32'));
    expect(result).toMatchObject({ ok: false, code: ErrorCode.HostFunctionFailed });
    expect(r.lastFailure?.error).toBeInstanceOf(HostFunctionError);
    expect(r.lastFailure?.error.message).toContain(text);
  });

  it('a failure is recorded when its reply is written, not when the host function settles', async () => {
    const r = registry();
    const write = await r.replyAsync(call('Rejects', [], 'i32'));
    expect(r.lastFailure).toBeUndefined();
    expect(written(write)).toMatchObject({ ok: false, code: ErrorCode.HostFunctionFailed });
    expect(r.lastFailure?.error.message).toContain('later');
  });

  it('a value that passed the type check but cannot be encoded (a Proxy of a Uint8Array) becomes a CallError', () => {
    const r = new HostFunctionRegistry();
    r.register('Sly', { params: [], returns: 'bytes' }, () => new Proxy(new Uint8Array(3), {}));
    expect(invoke(r, call('Sly', [], 'bytes'))).toMatchObject({ ok: false, code: ErrorCode.HostFunctionFailed });
    expect(r.lastFailure?.error.message).toMatch(/host function "Sly" failed: returned a value that could not be encoded: /);
  });

  it('a result too large for the input buffer becomes a MessageTooLarge reply', () => {
    const r = registry();
    const fits = written(r.reply(call('Big', [{ type: 'u32', value: 1000 }], 'bytes')), 4096);
    expect(fits.ok && fits.value.value).toEqual(new Uint8Array(1000));
    const reply = written(r.reply(call('Big', [{ type: 'u32', value: 5000 }], 'bytes')), 4096);
    expect(reply).toMatchObject({ ok: false, code: ErrorCode.MessageTooLarge });
    expect(r.lastFailure?.error).toBeInstanceOf(MessageTooLargeError);
    expect(r.lastFailure?.error.message).toMatch(/^result of host function "Big" needs \d+ bytes, more than the 4096-byte buffer \(raise inputSize\)$/);
  });

  it('rejects bad registrations', () => {
    const r = registry();
    expect(() => r.register('Add', { params: [], returns: 'void' }, () => undefined)).toThrow(InvalidHostFunctionError);
    expect(() => r.register('', { params: [], returns: 'void' }, () => undefined)).toThrow(/1 to 255 bytes/);
    expect(() => r.register('x'.repeat(256), { params: [], returns: 'void' }, () => undefined)).toThrow(InvalidHostFunctionError);
    expect(() => r.register('P', { params: ['void'] as never, returns: 'void' }, () => undefined)).toThrow(/parameter 0 has unknown type "void"/);
    expect(() => r.register('R', { params: [], returns: 'int' as never }, () => undefined)).toThrow(/unknown return type "int"/);
    expect(() => r.register('F', { params: [], returns: 'void' }, 'fn')).toThrow(/must be a function/);
    expect(() => r.register('M', { params: Array(12).fill('i32'), returns: 'void' }, () => undefined)).toThrow(/at most 11 parameters/);
  });
});
