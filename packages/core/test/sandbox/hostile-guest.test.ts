/**
 * Guests that break the protocol on purpose. Each must end in a typed error
 * (poisoning when guest state is suspect), never a host crash, hang or wrong answer.
 */
import { describe, expect, it } from 'vitest';
import { Abi, Ports } from '../../src/abi/generated.js';
import {
  GuestAbortedError, GuestExceptionError, GuestProtocolError, GuestUnknownPortError, HostCallbackError, HostFunctionError, HypervisorError,
  PoisonedSandboxError, SandboxStateError,
} from '../../src/errors.js';
import {
  decodeFunctionCallResult, encodeFunctionCall, encodeFunctionCallResult, encodeGuestFunctionDetails, ErrorCode,
} from '../../src/protocol/codec.js';
import type { MultiUseSandbox } from '../../src/sandbox/multi-use-sandbox.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { BackendError } from '../../src/backend/backend-error.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuest } from '../support/scripted-backend.js';

/** A guest exporting `F() -> i32` whose calls run `onCall`. */
function guestWith(onCall: ScriptedGuest): ScriptedGuest {
  return function* (ctx) {
    if (ctx.op === Abi.OP_INIT) return yield* ctx.init([{ name: 'F', parameters: [], returnType: 'i32' }]);
    yield* onCall(ctx);
  };
}

function evolve(guest: ScriptedGuest) {
  const backend = scriptedBackend(guest);
  const u = UninitializedSandbox.create(placeholderBinary(), { backend, print: () => undefined });
  return { sandbox: u.evolve(), backend };
}

function callError(guest: ScriptedGuest): { error: unknown; poisoned: boolean; next: unknown } {
  const { sandbox } = evolve(guestWith(guest));
  let error: unknown;
  try {
    sandbox.call('F', 'i32');
  } catch (e) {
    error = e;
  }
  let next: unknown;
  try {
    sandbox.call('F', 'i32');
  } catch (e) {
    next = e;
  }
  return { error, poisoned: sandbox.poisoned, next };
}

const ok = encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: 7 } });

describe('a hostile guest', () => {
  it('a frame claiming more bytes than the output buffer holds', () => {
    const { error, poisoned, next } = callError(function* (ctx) {
      ctx.memory.writeU32(ctx.peb('outputGva'), 0xffff_ffff);
      yield ctx.out(Ports.HALT);
    });
    expect(error).toBeInstanceOf(GuestProtocolError);
    expect((error as Error).message).toMatch(/frame claims 4294967295 payload bytes but the 65536-byte buffer holds at most 65532/);
    expect(poisoned).toBe(true);
    expect(next).toBeInstanceOf(PoisonedSandboxError);
  });

  it('garbage instead of a FunctionCallResult', () => {
    const { error, poisoned } = callError(function* (ctx) {
      ctx.writeOutput(Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8));
      yield ctx.out(Ports.HALT);
    });
    expect(error).toBeInstanceOf(GuestProtocolError);
    expect(poisoned).toBe(true);
  });

  it('a result of another type than the function declares', () => {
    const { error, poisoned } = callError(function* (ctx) {
      ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'string', value: 'seven' } }));
      yield ctx.out(Ports.HALT);
    });
    expect((error as Error).message).toBe('guest broke the host/guest protocol: "F" returned string, not the declared i32');
    expect(poisoned).toBe(true);
  });

  it('a host call with a malformed message never reaches a host function', () => {
    const { error } = callError(function* (ctx) {
      ctx.writeOutput(Uint8Array.of(4, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f));
      yield ctx.out(Ports.CALL_HOST);
      ctx.writeOutput(ok);
      yield ctx.out(Ports.HALT);
    });
    expect(error).toBeInstanceOf(GuestProtocolError);
  });

  it('a host call to an unregistered function gets a CallError back, not a crash', () => {
    let reply: Uint8Array | undefined;
    const { sandbox } = evolve(guestWith(function* (ctx) {
      ctx.writeOutput(encodeFunctionCall({ functionName: 'Nope', args: [], returnType: 'i32' }));
      yield ctx.out(Ports.CALL_HOST);
      const input = ctx.peb('inputGva');
      reply = ctx.memory.readBytes(input + 4, ctx.memory.readU32(input));
      ctx.writeOutput(ok);
      yield ctx.out(Ports.HALT);
    }));
    expect(sandbox.call('F', 'i32')).toBe(7);
    expect(decodeFunctionCallResult(reply!)).toEqual({ ok: false, code: ErrorCode.HostFunctionNotFound, message: expect.stringContaining('Nope') });
  });

  it('unknown ports, port reads and every exit kind besides io-out each end in their own error', () => {
    const out = callError(function* (ctx) {
      yield ctx.out(0x99);
    });
    expect(out.error).toBeInstanceOf(GuestUnknownPortError);
    expect((out.error as GuestUnknownPortError).port).toBe(0x99);
    expect(out.poisoned).toBe(true);
    expect(callError(function* () {
      yield { kind: 'io-in', port: 0x10, size: 1 };
    }).error).toMatchObject({ code: 'HL_ERR_GUEST_UNKNOWN_PORT', access: 'in' });
    expect(callError(function* () {
      yield { kind: 'halt' };
    }).error).toBeInstanceOf(GuestProtocolError);
    const unmapped = callError(function* () {
      yield { kind: 'memory-fault', gpa: 0x1_0000_0000n, access: 'write', unmapped: true };
    });
    expect(unmapped.error).toBeInstanceOf(GuestProtocolError);
    expect((unmapped.error as Error).message).toMatch(/unbacked guest-physical address 0x100000000/);
    expect(unmapped.poisoned).toBe(true);
    for (const [access, verb] of [['write', 'wrote'], ['read', 'read'], ['execute', 'executed']] as const) {
      const protectedFault = callError(function* () {
        yield { kind: 'memory-fault', gpa: 0x20_0000n, access, unmapped: false };
      });
      expect(protectedFault.error).toBeInstanceOf(GuestProtocolError);
      expect((protectedFault.error as Error).message).toContain(
        `guest ${verb} protected guest-physical address 0x200000 (a ${access} access its region does not allow)`);
      expect(protectedFault.poisoned).toBe(true);
    }
    const tripleFault = callError(function* () {
      yield { kind: 'triple-fault' };
    });
    expect(tripleFault.error).toBeInstanceOf(GuestExceptionError);
    expect(tripleFault.error).toMatchObject({ vector: 8 } satisfies Partial<GuestExceptionError>);
    expect(tripleFault.poisoned).toBe(true);
    for (const kind of ['invalid-state', 'hypervisor-error', 'unknown'] as const) {
      const failed = callError(function* () {
        yield { kind, detail: 'code 0x42' };
      });
      expect(failed.error).toBeInstanceOf(HypervisorError);
      expect((failed.error as Error).message).toContain(`${kind}: code 0x42`);
      expect(failed.poisoned).toBe(true);
    }
  });

  it("a backend's refusal during a call becomes a HypervisorError naming the backend, with its BackendError as cause", () => {
    const cause = new BackendError('kvm', 'KVM_RUN', 'EFAULT');
    const { error, poisoned } = callError(function* () {
      yield* [];
      throw cause;
    });
    expect(error).toBeInstanceOf(HypervisorError);
    expect(error).toMatchObject({ backend: 'kvm', cause, operation: 'run the vCPU' });
    expect(poisoned).toBe(true);
  });

  it('an exception port outside the stub range is an unknown port, inside it an exception', () => {
    expect(callError(function* (ctx) {
      yield ctx.out(Ports.EXCEPTION_BASE + Abi.EXCEPTION_VECTOR_COUNT);
    }).error).toBeInstanceOf(GuestUnknownPortError);
    expect(callError(function* (ctx) {
      yield ctx.out(Ports.EXCEPTION_BASE + 6);
    }).error).toMatchObject({ vector: 6 } satisfies Partial<GuestExceptionError>);
  });

  it('an endless abort message is capped at 1 MiB of text', () => {
    const { error } = callError(function* (ctx) {
      const piece = new TextEncoder().encode('x'.repeat(60_000));
      for (let i = 0; i < 40; i++) {
        ctx.writeOutput(piece);
        yield ctx.out(Ports.ABORT_CHUNK);
      }
      ctx.writeOutput(piece);
      yield ctx.out(Ports.ABORT, 99);
    });
    expect(error).toBeInstanceOf(GuestAbortedError);
    expect((error as GuestAbortedError).abortCode).toBe(99);
    expect((error as GuestAbortedError).guestMessage.length).toBe(1024 * 1024);
  });

  it('invalid UTF-8 in prints is replaced, not thrown', () => {
    const printed: string[] = [];
    const backend = scriptedBackend(guestWith(function* (ctx) {
      ctx.writeOutput(Uint8Array.of(0x68, 0x69, 0xff, 0xc3));
      yield ctx.out(Ports.DEBUG_PRINT);
      ctx.writeOutput(ok);
      yield ctx.out(Ports.HALT);
    }));
    const sandbox = UninitializedSandbox.create(placeholderBinary(), { backend, print: (t) => printed.push(t) }).evolve();
    expect(sandbox.call('F', 'i32')).toBe(7);
    expect(printed).toEqual(['hi\ufffd\ufffd']);
  });

  it('a bad function table at initialisation fails evolve() and releases the VM', () => {
    for (const table of [
      encodeGuestFunctionDetails([{ name: 'A', parameters: [], returnType: 'void' }, { name: 'A', parameters: [], returnType: 'i32' }]),
      encodeGuestFunctionDetails([{ name: 'B', parameters: Array(Abi.MAX_GUEST_FUNCTION_PARAMETERS + 1).fill('i32'), returnType: 'void' }]),
      Uint8Array.of(1, 2, 3),
    ]) {
      const backend = scriptedBackend(function* (ctx) {
        ctx.writeOutput(table);
        yield ctx.out(Ports.HALT);
      });
      expect(() => UninitializedSandbox.create(placeholderBinary(), { backend }).evolve()).toThrow(GuestProtocolError);
      expect(backend.vms[0]?.disposed).toBe(true);
    }
  });
});

describe('replies the host owes the guest always fit its input buffer', () => {
  /** A guest whose `F` calls host function `name` (with no arguments) and returns the host's reply unchanged. */
  const relayHostCall = (name: string): ScriptedGuest =>
    guestWith(function* (ctx) {
      ctx.writeOutput(encodeFunctionCall({ functionName: name, args: [], returnType: 'i32' }));
      yield ctx.out(Ports.CALL_HOST);
      const input = ctx.peb('inputGva');
      ctx.writeOutput(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
      yield ctx.out(Ports.HALT);
    });

  it('an unregistered host function whose name nearly fills the buffer gets its error reply, every time', () => {
    // The output buffer (64 KiB) carries the name in; the input buffer (4 KiB) must carry the error out.
    const name = 'N'.repeat(60_000);
    const backend = scriptedBackend(relayHostCall(name));
    const sandbox = UninitializedSandbox.create(placeholderBinary(), { backend, inputSize: 4096 }).evolve();
    for (let i = 0; i < 3; i++) {
      let error: unknown;
      try {
        sandbox.call('F', 'i32');
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'HL_ERR_HOST_FUNCTION_NOT_FOUND', functionName: name });
      expect((error as Error).message.length).toBeLessThan(400);
      expect(sandbox.poisoned).toBe(false);
    }
  });

  it('a host function error whose message is larger than the buffer reaches the guest cut to fit', () => {
    let seen: ReturnType<typeof decodeFunctionCallResult> | undefined;
    const backend = scriptedBackend(guestWith(function* (ctx) {
      ctx.writeOutput(encodeFunctionCall({ functionName: 'Loud', args: [], returnType: 'i32' }));
      yield ctx.out(Ports.CALL_HOST);
      const input = ctx.peb('inputGva');
      seen = decodeFunctionCallResult(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
      ctx.writeOutput(ok);
      yield ctx.out(Ports.HALT);
    }));
    const u = UninitializedSandbox.create(placeholderBinary(), { backend, inputSize: 4096 });
    u.register('Loud', { params: [], returns: 'i32' }, () => {
      throw new Error('é'.repeat(100_000));
    });
    expect(u.evolve().call('F', 'i32')).toBe(7);
    expect(seen).toMatchObject({ ok: false, code: ErrorCode.HostFunctionFailed });
    expect(!seen!.ok && seen!.message).toMatch(/^host function "Loud" failed: é{1000,}$/);
  });
});

describe('whatever user code throws becomes a typed error', () => {
  const unprintable = [
    ['Object.create(null)', () => Object.create(null) as unknown],
    ['an object whose toString throws', () => ({ toString: () => { throw new Error('no'); } })],
    ['an Error whose message getter throws', () => Object.defineProperty(new Error(), 'message', { get: () => { throw new Error('no'); } })],
  ] as const;

  it.each(unprintable)('a host function throwing %s', (_, make) => {
    const backend = scriptedBackend(guestWith(function* (ctx) {
      ctx.writeOutput(encodeFunctionCall({ functionName: 'Bad', args: [], returnType: 'i32' }));
      yield ctx.out(Ports.CALL_HOST);
      const input = ctx.peb('inputGva');
      ctx.writeOutput(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
      yield ctx.out(Ports.HALT);
    }));
    const u = UninitializedSandbox.create(placeholderBinary(), { backend });
    u.register('Bad', { params: [], returns: 'i32' }, () => {
      throw make();
    });
    const sandbox = u.evolve();
    expect(() => sandbox.call('F', 'i32')).toThrow(HostFunctionError);
    expect(() => sandbox.call('F', 'i32')).toThrow(/<unprintable value>/);
  });

  it.each(unprintable)('a print callback throwing %s', (_, make) => {
    const backend = scriptedBackend(guestWith(function* (ctx) {
      ctx.writeOutput(new TextEncoder().encode('hi'));
      yield ctx.out(Ports.DEBUG_PRINT);
      ctx.writeOutput(ok);
      yield ctx.out(Ports.HALT);
    }));
    const sandbox = UninitializedSandbox.create(placeholderBinary(), {
      backend,
      print: () => {
        throw make();
      },
    }).evolve();
    expect(() => sandbox.call('F', 'i32')).toThrow(HostCallbackError);
  });

  it('a host function returning a Proxy that throws on inspection', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); } });
    const backend = scriptedBackend(guestWith(function* (ctx) {
      ctx.writeOutput(encodeFunctionCall({ functionName: 'Proxy', args: [], returnType: 'i32' }));
      yield ctx.out(Ports.CALL_HOST);
      const input = ctx.peb('inputGva');
      ctx.writeOutput(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
      yield ctx.out(Ports.HALT);
    }));
    const u = UninitializedSandbox.create(placeholderBinary(), { backend });
    u.register('Proxy', { params: [], returns: 'i32' }, () => hostile as never);
    expect(() => u.evolve().call('F', 'i32')).toThrow(HostFunctionError);
  });
});

describe('re-entrant use from a host function', () => {
  /** `F` calls host `Inner` then returns 7. */
  const callsInner = guestWith(function* (ctx) {
    ctx.writeOutput(encodeFunctionCall({ functionName: 'Inner', args: [], returnType: 'void' }));
    yield ctx.out(Ports.CALL_HOST);
    ctx.writeOutput(ok);
    yield ctx.out(Ports.HALT);
  });

  it.each([
    ['call()', (s: MultiUseSandbox) => s.call('F', 'i32')],
    ['dispose()', (s: MultiUseSandbox) => s.dispose()],
    ['snapshot()', (s: MultiUseSandbox) => s.snapshot()],
  ])('%s is refused with a SandboxStateError, and the outer call completes', (_, use) => {
    let inner: unknown;
    let self: MultiUseSandbox | undefined;
    const backend = scriptedBackend(callsInner);
    const u = UninitializedSandbox.create(placeholderBinary(), { backend });
    u.register('Inner', { params: [], returns: 'void' }, () => {
      try {
        use(self!);
      } catch (error) {
        inner = error;
      }
    });
    self = u.evolve();
    expect(self.call('F', 'i32')).toBe(7);
    expect(inner).toBeInstanceOf(SandboxStateError);
    expect((inner as Error).message).toMatch(/from inside this sandbox's own host function|from inside its own host function/);
    expect(self.poisoned).toBe(false);
    expect(self.call('F', 'i32')).toBe(7);
  });
});
