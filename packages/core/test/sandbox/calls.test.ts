// Cancellation, time limits, AbortSignal, async calls and the one-run-at-a-time
// rule, against a scripted guest (no hypervisor). The KVM behaviour of the same
// rules is covered by tests/acceptance.
import { describe, expect, it } from 'vitest';
import { Ports } from '../../src/abi/generated.js';
import type { VmExit } from '../../src/backend/backend.js';
import { checkHypervisor } from '../../src/backend/discover.js';
import {
  BackendUnavailableError, ConfigurationError, GuestCancelledError, GuestTimeoutError, HostFunctionError, PoisonedSandboxError, SandboxStateError,
} from '../../src/errors.js';
import { decodeFunctionCall, decodeFunctionCallResult, encodeFunctionCall, encodeFunctionCallResult } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import { InterruptHandle } from '../../src/sandbox/interrupt-handle.js';
import type { MultiUseSandbox } from '../../src/sandbox/multi-use-sandbox.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuestContext } from '../support/scripted-backend.js';
import { rejection, thrown } from '../support/thrown.js';

/** What the scripted guest did, across calls. */
interface Trace {
  hostCalls: number;
}

function readInput(ctx: ScriptedGuestContext): Uint8Array {
  const input = ctx.peb('inputGva');
  return ctx.memory.readBytes(input + 4, ctx.memory.readU32(input));
}

/**
 * Functions: `Echo(i32) -> i32`; `Twice() -> i32`, which calls host `Host() -> i32`
 * twice and returns the sum (passing a failure on); `Spin() -> void`, which
 * never returns (it keeps exiting to flush its log). Init spins when asked to
 * by init data `spin`.
 */
function makeGuest(trace: Trace) {
  return function* guest(ctx: ScriptedGuestContext): Generator<VmExit, void, void> {
    if (ctx.op === 0) {
      if (new TextDecoder().decode(ctx.initData()) === 'spin') for (;;) yield ctx.out(Ports.LOG_FLUSH);
      return yield* ctx.init([
        { name: 'Echo', parameters: ['i32'], returnType: 'i32' },
        { name: 'Twice', parameters: [], returnType: 'i32' },
        { name: 'Spin', parameters: [], returnType: 'void' },
      ]);
    }
    const call = decodeFunctionCall(readInput(ctx));
    if (call.functionName === 'Echo') {
      ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: call.args[0]!.value as number } }));
    } else if (call.functionName === 'Twice') {
      let sum = 0;
      for (let i = 0; i < 2; i++) {
        trace.hostCalls++;
        ctx.writeOutput(encodeFunctionCall({ functionName: 'Host', args: [], returnType: 'i32' }));
        yield ctx.out(Ports.CALL_HOST);
        const reply = decodeFunctionCallResult(readInput(ctx));
        if (!reply.ok) {
          ctx.writeOutput(encodeFunctionCallResult(reply));
          return yield ctx.out(Ports.HALT);
        }
        sum += reply.value.value as number;
      }
      ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: sum } }));
    } else {
      for (;;) yield ctx.out(Ports.LOG_FLUSH);
    }
    yield ctx.out(Ports.HALT);
  };
}

function setup(host: () => number | Promise<number> = () => 1, config: SandboxConfiguration = {}) {
  const trace: Trace = { hostCalls: 0 };
  const backend = scriptedBackend(makeGuest(trace));
  const u = UninitializedSandbox.create(placeholderBinary(), { ...config, backend });
  u.register('Host', { params: [], returns: 'i32' }, host);
  const sandbox = u.evolve();
  const vm = backend.vms[0]!;
  return { sandbox, trace, vm };
}



describe('InterruptHandle', () => {
  it('a kill with no call running does nothing and does not cancel the next call', () => {
    const { sandbox } = setup();
    const handle = sandbox.interruptHandle();
    expect(handle.kill()).toBe(false);
    expect(sandbox.call('Echo', 'i32', 5)).toBe(5);
    expect(sandbox.poisoned).toBe(false);
  });

  it('a kill during a host function takes effect when it returns, before the guest runs again', () => {
    let handle: InterruptHandle | undefined;
    let killed: boolean | undefined;
    const { sandbox, trace } = setup(() => {
      killed = handle!.kill();
      return 1;
    });
    handle = sandbox.interruptHandle();
    const error = thrown(() => sandbox.call('Twice', 'i32'));
    expect(killed).toBe(true);
    expect(error).toBeInstanceOf(GuestCancelledError);
    expect(error).toMatchObject({ code: 'HL_ERR_GUEST_CANCELLED', reason: 'killed', functionName: 'Twice' });
    expect(trace.hostCalls).toBe(1); // the guest never got to its second host call
    expect(sandbox.poisoned).toBe(true);
    expect(() => sandbox.call('Echo', 'i32', 1)).toThrow(PoisonedSandboxError);
  });

  it('restore() recovers a killed sandbox', () => {
    let handle: InterruptHandle | undefined;
    const { sandbox } = setup(() => (handle?.kill(), 1));
    const clean = sandbox.snapshot();
    handle = sandbox.interruptHandle();
    expect(() => sandbox.call('Twice', 'i32')).toThrow(GuestCancelledError);
    handle = undefined;
    sandbox.restore(clean);
    expect(sandbox.call('Twice', 'i32')).toBe(2);
  });

  it('survives structured cloning (postMessage) as plain data that from() turns back into a handle', () => {
    const { sandbox } = setup();
    const copy = structuredClone(sandbox.interruptHandle());
    expect(copy).toEqual({ backend: 'kvm', id: expect.any(Number) });
    // from() loads the named backend in this thread: real KVM where it is usable.
    if (checkHypervisor().backend === 'kvm') expect(InterruptHandle.from(copy)).toBeInstanceOf(InterruptHandle);
    else expect(() => InterruptHandle.from(copy)).toThrow(BackendUnavailableError);
    expect(() => InterruptHandle.from({ backend: 'kvm', id: -1 })).toThrow(TypeError);
    expect(() => InterruptHandle.from(undefined as never)).toThrow(TypeError);
  });

  it('is refused after dispose()', () => {
    const { sandbox } = setup();
    sandbox.dispose();
    expect(() => sandbox.interruptHandle()).toThrow(SandboxStateError);
  });
});

describe('time limits', () => {
  it('the smaller of the sandbox and call limits goes to the backend, and the error names it', async () => {
    const { sandbox, vm } = setup(undefined, { timeoutMs: 5000 });
    sandbox.call('Echo', 'i32', 1);
    sandbox.with({ timeoutMs: 10_000 }).call('Echo', 'i32', 1);
    sandbox.with({ timeoutMs: 20 }).call('Echo', 'i32', 1);
    expect(vm.callGuard.timeouts).toEqual([5000, 5000, 5000, 20]); // init, then three calls

    const error = await rejection(sandbox.with({ timeoutMs: 20 }).callAsync('Spin', 'void'));
    expect(error).toBeInstanceOf(GuestTimeoutError);
    expect(error).toMatchObject({ code: 'HL_ERR_GUEST_TIMEOUT', limit: 'call', timeoutMs: 20, functionName: 'Spin' });
    expect((error as Error).message).toBe('guest call "Spin" timed out after 20 ms (the call\'s timeoutMs)');
    expect(sandbox.poisoned).toBe(true);
  });

  it('the sandbox limit fires when it is the smaller one', async () => {
    const { sandbox } = setup(undefined, { timeoutMs: 20 });
    const error = await rejection(sandbox.with({ timeoutMs: 60_000 }).callAsync('Spin', 'void'));
    expect(error).toMatchObject({ limit: 'sandbox', timeoutMs: 20 });
  });

  it('cover initialisation: evolveAsync() of a guest whose init never returns times out', async () => {
    const backend = scriptedBackend(makeGuest({ hostCalls: 0 }));
    const u = UninitializedSandbox.create(placeholderBinary(), { backend, timeoutMs: 20, initData: new TextEncoder().encode('spin') });
    const error = await rejection(u.evolveAsync());
    expect(error).toBeInstanceOf(GuestTimeoutError);
    expect((error as Error).message).toBe("guest initialisation timed out after 20 ms (the sandbox's timeoutMs option)");
    expect(backend.vms[0]!.disposed).toBe(true);
  });

  it('reject invalid values', () => {
    const { sandbox } = setup();
    for (const timeoutMs of [0, -1, Number.NaN, Infinity, 2 ** 31, '5']) {
      expect(() => sandbox.with({ timeoutMs } as never)).toThrow(ConfigurationError);
      expect(() => UninitializedSandbox.create(placeholderBinary(), { timeoutMs } as never)).toThrow(ConfigurationError);
    }
    expect(() => sandbox.with({ signal: {} } as never)).toThrow(ConfigurationError);
  });
});

describe('AbortSignal', () => {
  it('already aborted: throws without entering the guest and without poisoning', () => {
    const { sandbox, vm } = setup();
    const runs = vm.runs.length;
    const reason = new Error('user went away');
    const error = thrown(() => sandbox.with({ signal: AbortSignal.abort(reason) }).call('Echo', 'i32', 1));
    expect(error).toMatchObject({ code: 'HL_ERR_GUEST_CANCELLED', reason: 'aborted', cause: reason });
    expect(vm.runs.length).toBe(runs);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Echo', 'i32', 3)).toBe(3);
  });

  it('aborted during a sync call (from a host function) cancels it', () => {
    const controller = new AbortController();
    const { sandbox, trace } = setup(() => (controller.abort(), 1));
    const error = thrown(() => sandbox.with({ signal: controller.signal }).call('Twice', 'i32'));
    expect(error).toMatchObject({ reason: 'aborted' });
    expect(trace.hostCalls).toBe(1);
  });

  it('aborted during an async call cancels it; the listener is removed afterwards', async () => {
    const { sandbox } = setup();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    expect(await rejection(sandbox.with({ signal: controller.signal }).callAsync('Spin', 'void'))).toMatchObject({ reason: 'aborted' });

    const late = new AbortController();
    const { sandbox: other } = setup();
    expect(await other.with({ signal: late.signal }).callAsync('Echo', 'i32', 4)).toBe(4);
    late.abort();
    expect(await other.callAsync('Echo', 'i32', 5)).toBe(5);
  });
});

describe('callAsync', () => {
  it('runs the guest through runAsync and waits for async host functions', async () => {
    const { sandbox, vm } = setup(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 20;
    });
    const before = vm.runs.length;
    expect(await sandbox.callAsync('Twice', 'i32')).toBe(40);
    expect(vm.runs.slice(before).every((kind) => kind === 'async')).toBe(true);
  });

  it('a rejected async host function reaches the guest as a host-function failure', async () => {
    const { sandbox } = setup(async () => {
      throw new Error('backend offline');
    });
    const error = await rejection(sandbox.callAsync('Twice', 'i32'));
    expect(error).toBeInstanceOf(HostFunctionError);
    expect((error as Error).message).toContain('backend offline');
    expect(sandbox.poisoned).toBe(false);
  });

  it('an async host function in a sync call is a host-function failure that names callAsync', () => {
    const { sandbox } = setup(async () => 1);
    expect(() => sandbox.call('Twice', 'i32')).toThrow(/async host functions need callAsync\(\)/);
  });

  it('a kill ends the wait for a host function that never settles', async () => {
    let handle: InterruptHandle | undefined;
    const { sandbox } = setup(() => {
      setTimeout(() => handle!.kill(), 5);
      return new Promise<number>(() => undefined);
    });
    handle = sandbox.interruptHandle();
    expect(await rejection(sandbox.callAsync('Twice', 'i32'))).toMatchObject({ reason: 'killed' });
  });

  it('a host function that settles after its call was killed writes nothing into guest memory', async () => {
    let handle: InterruptHandle | undefined;
    let settle!: () => void;
    const { sandbox, vm } = setup(() => {
      setTimeout(() => handle!.kill(), 5);
      return new Promise<number>((_, reject) => (settle = () => reject(new Error('too late'))));
    });
    handle = sandbox.interruptHandle();
    expect(await rejection(sandbox.callAsync('Twice', 'i32'))).toMatchObject({ reason: 'killed' });
    const memory = new Uint8Array(vm.memory).slice();
    settle();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Buffer.compare(new Uint8Array(vm.memory), memory)).toBe(0);
  });

  it('a kill in the same tick as callAsync() stops that call (it has started)', async () => {
    const { sandbox } = setup();
    const pending = sandbox.callAsync('Spin', 'void');
    expect(sandbox.interruptHandle().kill()).toBe(true);
    expect(await rejection(pending)).toMatchObject({ reason: 'killed' });
  });

  it('queues concurrent calls in order, each with its own result', async () => {
    const { sandbox } = setup(async () => 1);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? sandbox.callAsync('Echo', 'i32', i) : sandbox.callAsync('Twice', 'i32'))));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? i : 2)));
  });

  it('while a call runs or is queued, call(), snapshot() and restore() are refused', async () => {
    const { sandbox } = setup();
    const clean = sandbox.snapshot();
    const pending = sandbox.callAsync('Echo', 'i32', 1);
    expect(() => sandbox.call('Echo', 'i32', 1)).toThrow(SandboxStateError);
    expect(() => sandbox.snapshot()).toThrow(SandboxStateError);
    expect(() => sandbox.restore(clean)).toThrow(SandboxStateError);
    expect(await pending).toBe(1);
    expect(sandbox.call('Echo', 'i32', 2)).toBe(2);
  });

  it('a host function may not call its own sandbox', () => {
    let self: MultiUseSandbox | undefined;
    let inner: unknown;
    const { sandbox } = setup(() => {
      inner = thrown(() => self!.call('Echo', 'i32', 1));
      return 1;
    });
    self = sandbox;
    expect(sandbox.call('Twice', 'i32')).toBe(2);
    expect(inner).toBeInstanceOf(SandboxStateError);
  });

  it('dispose() cancels the running call, rejects the queued ones, and releases the VM once the guest stopped', async () => {
    const { sandbox, vm } = setup();
    const running = rejection(sandbox.callAsync('Spin', 'void'));
    const queued = rejection(sandbox.callAsync('Echo', 'i32', 1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    sandbox.dispose();
    expect(await running).toMatchObject({ code: 'HL_ERR_GUEST_CANCELLED', reason: 'disposed' });
    expect(await queued).toBeInstanceOf(SandboxStateError);
    expect(vm.disposed).toBe(true);
    await expect(sandbox.callAsync('Echo', 'i32', 1)).rejects.toThrow(SandboxStateError);
  });
});
