import { describe, expect, it, vi } from 'vitest';
import { Ports } from '../../src/abi/generated.js';
import {
  ConfigurationError, GuestFunctionError, GuestProtocolError, HostCallbackError, HostFunctionError, MessageTooLargeError,
} from '../../src/errors.js';
import { decodeFunctionCall, encodeFunctionCall, encodeFunctionCallResult, ErrorCode, LogLevel, type LogRecord } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuest, type ScriptedGuestContext } from '../support/scripted-backend.js';
import { rejection, thrown } from '../support/thrown.js';

const record = (level: LogLevel, message: string): LogRecord => ({ level, message, target: 'guest', sourceFile: 'main.rs', line: 7 });

/**
 * A guest with one function, `Run(string) -> string`: it logs one record per
 * level, prints its argument, and returns the log level the PEB asked for.
 */
const loggingGuest: ScriptedGuest = function* (ctx: ScriptedGuestContext) {
  if (ctx.op === 0) return yield* ctx.init([{ name: 'Run', parameters: ['string'], returnType: 'string' }]);
  const call = decodeFunctionCall(ctx.memory.readBytes(ctx.peb('inputGva') + 4, ctx.memory.readU32(ctx.peb('inputGva'))));
  for (let level = LogLevel.Trace; level <= LogLevel.Critical; level++) ctx.appendLog(record(level, `level ${level}`));
  ctx.writeOutput(new TextEncoder().encode(String(call.args[0]?.value)));
  yield ctx.out(Ports.DEBUG_PRINT);
  ctx.appendLog(record(LogLevel.Error, 'after print'));
  ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'string', value: `max ${ctx.peb('maxLogLevel')}` } }));
  yield ctx.out(Ports.HALT);
};

function sandbox(guest: ScriptedGuest, config: SandboxConfiguration = {}) {
  const backend = scriptedBackend(guest);
  return { sandbox: UninitializedSandbox.create(placeholderBinary(), { print: () => undefined, ...config, backend }).evolve(), backend };
}

describe('guest logging', () => {
  it('is off by default: the PEB says Off and nothing is delivered', () => {
    const { sandbox: s } = sandbox(loggingGuest);
    expect(s.call('Run', 'string', 'x')).toBe(`max ${LogLevel.Off}`);
  });

  it('delivers records at or above maxLogLevel, in order, interleaved correctly with prints', () => {
    const events: string[] = [];
    const { sandbox: s } = sandbox(loggingGuest, {
      maxLogLevel: 'warn',
      logger: (r) => events.push(`log ${r.level} ${r.message} ${r.target} ${r.sourceFile}:${r.line}`),
      print: (text) => events.push(`print ${text}`),
    });
    // The scripted guest ignores the PEB level, as a hostile guest might: the host filters again.
    expect(s.call('Run', 'string', 'hi')).toBe(`max ${LogLevel.Warn}`);
    expect(events).toEqual([
      'log 3 level 3 guest main.rs:7',
      'log 4 level 4 guest main.rs:7',
      'log 5 level 5 guest main.rs:7',
      'print hi',
      'log 4 after print guest main.rs:7',
    ]);
  });

  it('a logger alone means Info; a level alone logs to the console', () => {
    const seen: LogLevel[] = [];
    expect(sandbox(loggingGuest, { logger: (r) => seen.push(r.level) }).sandbox.call('Run', 'string', '')).toBe(`max ${LogLevel.Info}`);
    expect(seen).toEqual([2, 3, 4, 5, 4]);

    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      sandbox(loggingGuest, { maxLogLevel: LogLevel.Warn }).sandbox.call('Run', 'string', '');
      expect(warn.mock.calls).toEqual([['[guest guest] level 3 (main.rs:7)']]);
      expect(error.mock.calls.map((c) => c[0])).toEqual(['[guest guest] level 4 (main.rs:7)', '[guest guest] level 5 (main.rs:7)', '[guest guest] after print (main.rs:7)']);
    } finally {
      error.mockRestore();
      warn.mockRestore();
    }
  });

  it('a throwing logger or print fails the call after the guest finishes, without poisoning', () => {
    const delivered: string[] = [];
    const { sandbox: s } = sandbox(loggingGuest, {
      logger: (r) => {
        delivered.push(r.message);
        throw new Error('log sink down');
      },
    });
    const error = (() => {
      try {
        s.call('Run', 'string', 'x');
      } catch (e) {
        return e as HostCallbackError;
      }
    })();
    expect(error).toBeInstanceOf(HostCallbackError);
    expect(error?.code).toBe('HL_ERR_HOST_CALLBACK_FAILED');
    expect(error?.callback).toBe('logger');
    expect((error?.cause as Error).message).toBe('log sink down');
    // Every record was still offered to the logger; the guest ran to the end.
    expect(delivered).toEqual(['level 2', 'level 3', 'level 4', 'level 5', 'after print']);
    expect(s.poisoned).toBe(false);

    let fail = true;
    const { sandbox: p } = sandbox(loggingGuest, {
      print: () => {
        if (fail) throw 'not an Error';
      },
    });
    expect(() => p.call('Run', 'string', 'x')).toThrow(/print callback threw: not an Error/);
    fail = false;
    expect(p.call('Run', 'string', 'x')).toBe(`max ${LogLevel.Off}`);
  });

  it('a malformed log area poisons the sandbox', () => {
    const { sandbox: s } = sandbox(function* (ctx) {
      if (ctx.op === 0) return yield* ctx.init([{ name: 'Bad', parameters: [], returnType: 'void' }]);
      ctx.memory.writeU32(ctx.peb('logGva'), 0xffff_fff0);
      yield ctx.out(Ports.LOG_FLUSH);
    }, { logger: () => undefined });
    expect(() => s.call('Bad', 'void')).toThrow(GuestProtocolError);
    expect(s.poisoned).toBe(true);
  });

  it('a failing logger during initialisation fails evolve() and releases the VM', () => {
    const backend = scriptedBackend(function* (ctx) {
      ctx.appendLog(record(LogLevel.Error, 'booting'));
      yield* ctx.init([]);
    });
    const u = UninitializedSandbox.create(placeholderBinary(), { backend, logger: () => { throw new Error('no'); } });
    expect(() => u.evolve()).toThrow(HostCallbackError);
    expect(backend.vms[0]?.disposed).toBe(true);
  });
});

describe('init data', () => {
  const initGuest: ScriptedGuest = function* (ctx) {
    if (ctx.op === 0) return yield* ctx.init([{ name: 'Read', parameters: [], returnType: 'bytes' }]);
    ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: ctx.initData() } }));
    yield ctx.out(Ports.HALT);
  };

  it('is copied into guest memory at creation and the PEB points to it', () => {
    const blob = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    const config = { initData: blob };
    const { sandbox: s } = sandbox(initGuest, config);
    blob.fill(0); // the sandbox kept its own copy
    expect(s.call('Read', 'bytes')).toEqual(new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff));
  });

  it('is absent by default: PEB address and size are 0', () => {
    let fields: number[] = [];
    sandbox(function* (ctx) {
      fields = [ctx.peb('initDataGva'), ctx.peb('initDataSize')];
      yield* ctx.init([]);
    });
    expect(fields).toEqual([0, 0]);
  });
});

describe('host call failures the guest passes on', () => {
  /** `Relay(u32) -> bytes`: calls host `Get(u32) -> bytes` and returns its result or passes its error on. */
  const relayGuest = (hostArgType: 'u32' | 'i64'): ScriptedGuest => function* (ctx) {
    if (ctx.op === 0) return yield* ctx.init([{ name: 'Relay', parameters: ['u32'], returnType: 'bytes' }]);
    const input = ctx.peb('inputGva');
    const call = decodeFunctionCall(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
    const n = call.args[0]!.value as number;
    ctx.writeOutput(encodeFunctionCall({ functionName: 'Get', args: [hostArgType === 'u32' ? { type: 'u32', value: n } : { type: 'i64', value: BigInt(n) }], returnType: 'bytes' }));
    yield ctx.out(Ports.CALL_HOST);
    // A well-behaved guest relays the host's reply unchanged, error or not.
    ctx.writeOutput(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
    yield ctx.out(Ports.HALT);
  };

  function relay(hostArgType: 'u32' | 'i64') {
    const backend = scriptedBackend(relayGuest(hostArgType));
    return UninitializedSandbox.create(placeholderBinary(), { backend, inputSize: 8192 })
      .register('Get', { params: ['u32'], returns: 'bytes' }, (n) => new Uint8Array(n).fill(1))
      .evolve();
  }

  it('a result larger than inputSize reaches the guest as an error and the caller as MessageTooLargeError', () => {
    const s = relay('u32');
    expect(s.call('Relay', 'bytes', 100)).toEqual(new Uint8Array(100).fill(1));
    expect(() => s.call('Relay', 'bytes', 10_000)).toThrow(MessageTooLargeError);
    expect(() => s.call('Relay', 'bytes', 10_000)).toThrow(/^result of host function "Get" needs \d+ bytes, more than the 8192-byte buffer \(raise inputSize\)$/);
    expect(s.poisoned).toBe(false);
    expect(s.call('Relay', 'bytes', 3)).toEqual(Uint8Array.of(1, 1, 1));
  });

  it('a host call with the wrong argument types is reported as the host function error', () => {
    const s = relay('i64');
    const error = (() => {
      try {
        s.call('Relay', 'bytes', 1);
      } catch (e) {
        return e as HostFunctionError;
      }
    })();
    expect(error).toBeInstanceOf(HostFunctionError);
    expect(error?.message).toBe('host function "Get" failed: argument 0 must be u32, the guest passed i64');
  });
});

describe('bytes results into a destination (with({ into }))', () => {
  /**
   * `Bytes(u32) -> bytes` returns that many bytes (1, 2, 3, ...); `Fail() -> bytes`
   * fails; `Garbage() -> bytes` writes a result that is not a message;
   * `Count() -> u32` returns how many calls the guest has run.
   */
  function destinationGuest(): ScriptedGuest {
    let calls = 0;
    return function* (ctx: ScriptedGuestContext) {
      if (ctx.op === 0) {
        return yield* ctx.init([
          { name: 'Bytes', parameters: ['u32'], returnType: 'bytes' },
          { name: 'Fail', parameters: [], returnType: 'bytes' },
          { name: 'Garbage', parameters: [], returnType: 'bytes' },
          { name: 'Count', parameters: [], returnType: 'u32' },
        ]);
      }
      calls++;
      const call = decodeFunctionCall(ctx.memory.readBytes(ctx.peb('inputGva') + 4, ctx.memory.readU32(ctx.peb('inputGva'))));
      const length = Number(call.args[0]?.value ?? 0);
      switch (call.functionName) {
        case 'Bytes': ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'bytes', value: Uint8Array.from({ length }, (_, i) => i + 1) } })); break;
        case 'Fail': ctx.writeOutput(encodeFunctionCallResult({ ok: false, code: ErrorCode.GuestFunctionFailed, message: 'no bytes today' })); break;
        case 'Garbage': ctx.writeOutput(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)); break;
        default: ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'u32', value: calls } }));
      }
      yield ctx.out(Ports.HALT);
    };
  }
  const untouched = (bytes: Uint8Array): boolean => bytes.every((b) => b === 0xee);

  it('returns a view of the destination holding the result; the next call into it overwrites it', async () => {
    const { sandbox: s } = sandbox(destinationGuest());
    const into = new Uint8Array(8).fill(0xee);
    const scope = s.with({ into });
    const first = scope.call('Bytes', 'bytes', 3);
    expect(first).toEqual(Uint8Array.of(1, 2, 3));
    expect([first.buffer, first.byteOffset]).toEqual([into.buffer, 0]);
    expect([...into]).toEqual([1, 2, 3, 0xee, 0xee, 0xee, 0xee, 0xee]);
    const second = await scope.callAsync('Bytes', 'bytes', 8);
    expect(second.buffer).toBe(into.buffer);
    expect([...first]).toEqual([1, 2, 3]);
    expect([...second]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(scope.call('Bytes', 'bytes', 0).byteLength).toBe(0);
    // A Buffer works too, and so does a view into a larger buffer.
    const region = Buffer.alloc(16);
    expect([...s.with({ into: region.subarray(4, 8) }).call('Bytes', 'bytes', 2)]).toEqual([1, 2]);
    expect([...region.subarray(0, 8)]).toEqual([0, 0, 0, 0, 1, 2, 0, 0]);
  });

  it('a result longer than the destination fails with MessageTooLargeError, writes nothing and does not poison', async () => {
    const { sandbox: s } = sandbox(destinationGuest());
    const into = new Uint8Array(4).fill(0xee);
    const error = thrown(() => s.with({ into }).call('Bytes', 'bytes', 5)) as MessageTooLargeError;
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toMatchObject({ sizeBytes: 5, capacityBytes: 4, option: 'into' });
    expect(error.message).toBe('the result of "Bytes" needs 5 bytes, more than the 4-byte buffer (raise into)');
    expect(await rejection(s.with({ into }).callAsync('Bytes', 'bytes', 1000))).toBeInstanceOf(MessageTooLargeError);
    expect(untouched(into)).toBe(true);
    expect(s.poisoned).toBe(false);
    expect(s.with({ into }).call('Bytes', 'bytes', 4)).toEqual(Uint8Array.of(1, 2, 3, 4));
  });

  it('a guest error or a malformed result leaves the destination as it was', () => {
    const { sandbox: s } = sandbox(destinationGuest());
    const into = new Uint8Array(64).fill(0xee);
    expect(() => s.with({ into }).call('Fail', 'bytes')).toThrow(new GuestFunctionError('Fail', 'no bytes today'));
    expect(() => s.with({ into }).call('Garbage', 'bytes')).toThrow(GuestProtocolError);
    expect(untouched(into)).toBe(true);
    expect(s.poisoned).toBe(true);
  });

  it('is refused before the call enters the VM when it is not a Uint8Array or the call does not return bytes', () => {
    const { sandbox: s } = sandbox(destinationGuest());
    for (const into of [[1, 2], new ArrayBuffer(4), new Uint16Array(2), 'bytes', null]) {
      expect(() => s.with({ into } as never)).toThrow(ConfigurationError);
    }
    const error = thrown(() => s.with({ into: new Uint8Array(8) }).call('Count', 'u32')) as ConfigurationError;
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/only calls that return bytes take a destination; "Count" returns u32/);
    expect(s.call('Count', 'u32')).toBe(1);
  });

  it('without it, every bytes result is a new Uint8Array of its own', () => {
    const { sandbox: s } = sandbox(destinationGuest(), { outputSize: 64 * 1024 });
    for (const length of [3, 5000]) {
      const [a, b] = [s.call('Bytes', 'bytes', length), s.call('Bytes', 'bytes', length)];
      expect(a.constructor).toBe(Uint8Array);
      expect(a.buffer).not.toBe(b.buffer);
      expect([a.buffer.byteLength, a[length - 1]]).toEqual([length, length & 0xff]);
    }
  });
});
