// The CLOCK exit and the `clock` option: the default clocks (with the
// monotonic clock under test control), an embedder's clock, and guests that
// ask for clocks that do not exist — against a scripted guest.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Abi, PebOffset, Ports } from '../../src/abi/generated.js';
import type { VmExit } from '../../src/backend/backend.js';
import { GuestProtocolError, HostCallbackError, PoisonedSandboxError } from '../../src/errors.js';
import { decodeFunctionCall, encodeFunctionCallResult } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import { clockNameOf, SandboxClock, type ClockName, type GuestClock } from '../../src/sandbox/guest-clock.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuestContext } from '../support/scripted-backend.js';
import { rejection, thrown } from '../support/thrown.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Replaces `process.hrtime.bigint()` with a clock the test moves; starts at `startNs`. */
function fakeHrtime(startNs = 1_000_000_000n): { advance(ns: bigint): void } {
  let now = startNs;
  vi.spyOn(process.hrtime, 'bigint').mockImplementation(() => now);
  return {
    advance(ns) {
      now += ns;
    },
  };
}

describe('clockNameOf', () => {
  it('names every CLOCK_ID_*', () => {
    expect(clockNameOf(Abi.CLOCK_ID_REALTIME)).toBe('realtime');
    expect(clockNameOf(Abi.CLOCK_ID_MONOTONIC)).toBe('monotonic');
    expect(clockNameOf(Abi.CLOCK_ID_CPU)).toBe('cpu');
  });

  it.each([3, 0xff, 0x7fffffff, 0xffffffff])('refuses unknown id %d with a GuestProtocolError', (id) => {
    expect(() => clockNameOf(id)).toThrow(GuestProtocolError);
    expect(() => clockNameOf(id)).toThrow(`unknown clock id ${id}`);
  });
});

describe('SandboxClock defaults', () => {
  it('realtime is nanoseconds since the epoch, within a millisecond of Date.now()', () => {
    const clock = new SandboxClock(undefined);
    for (let i = 0; i < 100; i++) {
      const before = BigInt(Date.now()) * 1_000_000n;
      const ns = clock.read('realtime');
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      expect(ns >= before - 1_000_000n && ns <= after + 1_000_000n, `${ns} in [${before}, ${after}]`).toBe(true);
    }
  });

  it('realtime follows the wall clock when it is set', () => {
    const clock = new SandboxClock(undefined);
    clock.read('realtime');
    const later = Date.now() + 3_600_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    const ns = clock.read('realtime');
    expect(ns >= BigInt(later) * 1_000_000n - 1_000_000n && ns <= BigInt(later) * 1_000_000n + 1_000_000n).toBe(true);
  });

  it('monotonic counts from the sandbox clock\'s creation', () => {
    const time = fakeHrtime();
    const clock = new SandboxClock(undefined);
    expect(clock.read('monotonic')).toBe(0n);
    time.advance(1234n);
    expect(clock.read('monotonic')).toBe(1234n);
    const other = new SandboxClock(undefined);
    expect(other.read('monotonic')).toBe(0n);
  });

  it('cpu meters guest runs only, from the first reading on', () => {
    const time = fakeHrtime();
    const clock = new SandboxClock(undefined);
    clock.beginRun();
    time.advance(500n);
    clock.endRun(); // not metered yet: nobody read the cpu clock
    time.advance(10_000n);
    clock.beginRun();
    time.advance(100n);
    expect(clock.read('cpu')).toBe(0n); // metering starts at the first reading
    time.advance(40n);
    expect(clock.read('cpu')).toBe(40n);
    time.advance(60n);
    clock.endRun();
    time.advance(1_000_000n); // between runs: not counted
    clock.beginRun();
    time.advance(5n);
    expect(clock.read('cpu')).toBe(105n);
    clock.endRun();
  });
});

describe('SandboxClock with the clock option', () => {
  it('returns exactly what the option gives, bigint or number, and passes the clock name', () => {
    const seen: ClockName[] = [];
    const clock = new SandboxClock((name) => {
      seen.push(name);
      return name === 'realtime' ? 2n ** 64n - 1n : 42;
    });
    expect([clock.read('realtime'), clock.read('monotonic'), clock.read('cpu')]).toEqual([2n ** 64n - 1n, 42n, 42n]);
    expect(seen).toEqual(['realtime', 'monotonic', 'cpu']);
  });

  it('lets the option read the default clock (here: coarsened to milliseconds)', () => {
    const time = fakeHrtime();
    const clock = new SandboxClock((_name, readDefault) => (readDefault() / 1_000_000n) * 1_000_000n);
    time.advance(2_999_999n);
    expect(clock.read('monotonic')).toBe(2_000_000n);
  });

  it.each([
    ['a negative bigint', -1n],
    ['a bigint above 2^64 - 1', 2n ** 64n],
    ['a fraction', 1.5],
    ['a negative number', -1],
    ['an unsafe integer', 2 ** 53],
    ['NaN', Number.NaN],
    ['a string', '5'],
    ['undefined', undefined],
    ['null', null],
  ])('refuses %s with HostCallbackError', (_label, value) => {
    const clock = new SandboxClock(() => value as never);
    const error = thrown(() => clock.read('cpu')) as HostCallbackError;
    expect(error).toBeInstanceOf(HostCallbackError);
    expect(error).toMatchObject({ callback: 'clock' });
    expect(error.detail).toMatch(/for the cpu clock; expected a whole number of nanoseconds/);
  });

  it('wraps what the option throws, whatever it is', () => {
    const reason = new Error('clock source unavailable');
    const error = thrown(() => new SandboxClock(() => { throw reason; }).read('realtime')) as HostCallbackError;
    expect(error).toMatchObject({ callback: 'clock', detail: 'clock source unavailable', cause: reason });
    const hostile = new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); } });
    expect(thrown(() => new SandboxClock(() => { throw hostile; }).read('realtime'))).toBeInstanceOf(HostCallbackError);
  });
});

/** The input frame's call. */
function readCall(ctx: ScriptedGuestContext) {
  const input = ctx.peb('inputGva');
  return decodeFunctionCall(ctx.memory.readBytes(input + 4, ctx.memory.readU32(input)));
}

/**
 * A guest with `Clock(u32 id) -> u64`, which reads clock `id` with a CLOCK
 * exit and returns PEB `clock_ns`, and `Idle() -> u64`, which reads no clock
 * and returns what `clock_ns` holds. Init reads the realtime clock once.
 */
function* clockGuest(ctx: ScriptedGuestContext): Generator<VmExit, void, void> {
  const clockNs = (): bigint => ctx.memory.readU64(ctx.pebGpa + PebOffset.clockNs);
  if (ctx.op === Abi.OP_INIT) {
    yield ctx.out(Ports.CLOCK, Abi.CLOCK_ID_REALTIME);
    return yield* ctx.init([
      { name: 'Clock', parameters: ['u32'], returnType: 'u64' },
      { name: 'Idle', parameters: [], returnType: 'u64' },
    ]);
  }
  const call = readCall(ctx);
  if (call.functionName === 'Clock') yield ctx.out(Ports.CLOCK, call.args[0]!.value as number);
  ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'u64', value: clockNs() } }));
  yield ctx.out(Ports.HALT);
}

function clockSandbox(config: SandboxConfiguration = {}) {
  const backend = scriptedBackend(clockGuest);
  const sandbox = UninitializedSandbox.create(placeholderBinary(), { ...config, backend }).evolve();
  return { sandbox, vm: backend.vms[0]! };
}

describe('the CLOCK exit', () => {
  it('writes the default readings to PEB clock_ns and resumes the guest', async () => {
    const { sandbox } = clockSandbox();
    const realtime = sandbox.call('Clock', 'u64', Abi.CLOCK_ID_REALTIME);
    expect(Number(realtime / 1_000_000n)).toBeGreaterThanOrEqual(Date.now() - 1000);
    expect(Number(realtime / 1_000_000n)).toBeLessThanOrEqual(Date.now() + 1);
    const first = sandbox.call('Clock', 'u64', Abi.CLOCK_ID_MONOTONIC);
    const second = await sandbox.callAsync('Clock', 'u64', Abi.CLOCK_ID_MONOTONIC);
    expect(second).toBeGreaterThanOrEqual(first);
    expect(first).toBeLessThan(60_000_000_000n); // counted from the sandbox's creation
    expect(sandbox.call('Clock', 'u64', Abi.CLOCK_ID_CPU)).toBe(0n); // the first CPU reading
    // The field keeps the last reading until the next CLOCK exit.
    expect(sandbox.call('Idle', 'u64')).toBeGreaterThanOrEqual(0n);
  });

  it('returns exactly what a frozen clock option gives, for init and calls, sync and async', async () => {
    const frozen: Record<ClockName, bigint> = { realtime: 1_700_000_000_123_456_789n, monotonic: 77n, cpu: 2n ** 64n - 1n };
    const reads: ClockName[] = [];
    const { sandbox } = clockSandbox({ clock: (name) => (reads.push(name), frozen[name]) });
    expect(reads).toEqual(['realtime']); // the init run's read
    expect(sandbox.call('Clock', 'u64', Abi.CLOCK_ID_REALTIME)).toBe(frozen.realtime);
    expect(sandbox.call('Clock', 'u64', Abi.CLOCK_ID_MONOTONIC)).toBe(frozen.monotonic);
    expect(await sandbox.callAsync('Clock', 'u64', Abi.CLOCK_ID_CPU)).toBe(frozen.cpu);
  });

  it('never runs the clock option for calls whose guest reads no clock, and adds no exit', () => {
    const clock = vi.fn<GuestClock>(() => 5n);
    const { sandbox, vm } = clockSandbox({ clock });
    clock.mockClear();
    const runsBefore = vm.runs.length;
    expect(sandbox.call('Idle', 'u64')).toBe(5n); // init's reading, still in the field
    expect(vm.runs.length - runsBefore).toBe(1); // the halt: one exit
    expect(clock).not.toHaveBeenCalled();
  });

  it('does not meter CPU time for sandboxes that never read it', () => {
    const hrtime = vi.spyOn(process.hrtime, 'bigint');
    const { sandbox } = clockSandbox({ clock: () => 0n });
    hrtime.mockClear(); // creation reads it once: the monotonic origin
    for (let i = 0; i < 3; i++) sandbox.call('Idle', 'u64');
    expect(hrtime).not.toHaveBeenCalled();
  });

  it.each([3, 0xffff, 0xffffffff])('fails the call with GuestProtocolError for unknown clock id %d, and poisons the sandbox', (id) => {
    const clock = vi.fn<GuestClock>(() => 1n);
    const { sandbox } = clockSandbox({ clock });
    clock.mockClear();
    const error = thrown(() => sandbox.call('Clock', 'u64', id)) as GuestProtocolError;
    expect(error).toBeInstanceOf(GuestProtocolError);
    expect(error.message).toContain(`unknown clock id ${id}`);
    expect(clock).not.toHaveBeenCalled();
    expect(sandbox.poisoned).toBe(true);
    expect(() => sandbox.call('Idle', 'u64')).toThrow(PoisonedSandboxError);
  });

  it('gives the guest 0 when the clock option fails, then fails the call with HostCallbackError (no poison)', async () => {
    let mode: 'throw' | 'bad' | 'ok' = 'ok';
    const { sandbox } = clockSandbox({
      clock: () => {
        if (mode === 'throw') throw new Error('no time source');
        return mode === 'bad' ? -5n : 9n;
      },
    });
    mode = 'throw';
    const error = thrown(() => sandbox.call('Clock', 'u64', Abi.CLOCK_ID_MONOTONIC)) as HostCallbackError;
    expect(error).toBeInstanceOf(HostCallbackError);
    expect(error).toMatchObject({ callback: 'clock', detail: 'no time source' });
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Idle', 'u64')).toBe(0n); // what the guest read
    mode = 'bad';
    expect(await rejection(sandbox.callAsync('Clock', 'u64', Abi.CLOCK_ID_CPU))).toMatchObject({ callback: 'clock' });
    mode = 'ok';
    expect(sandbox.call('Clock', 'u64', Abi.CLOCK_ID_CPU)).toBe(9n);
  });

  it('fails evolve() when the init run\'s clock read fails', () => {
    const backend = scriptedBackend(clockGuest);
    const u = UninitializedSandbox.create(placeholderBinary(), { backend, clock: () => { throw new Error('down'); } });
    expect(thrown(() => u.evolve())).toMatchObject({ callback: 'clock', detail: 'down' });
  });
});
