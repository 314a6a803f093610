// The host clock end to end: the Rust simpleguest's `ClockNs(id)` reads a
// clock through `hyperlight_guest::clock` (one CLOCK exit), against the
// default clocks and an embedder's `clock` option.
import { expect, it, vi } from 'vitest';
import { GuestProtocolError, HostCallbackError, PoisonedSandboxError, type ClockName, type GuestClock } from '@hyperlight-ts/core';
import { countingBackend } from './support/counting-backend.js';
import { describeHypervisor, simpleSandbox } from './support/guests.js';
import { thrown } from './support/thrown.js';

/** `CLOCK_ID_*` by name (docs/abi.md). */
const CLOCK_ID: Record<ClockName, number> = { realtime: 0, monotonic: 1, cpu: 2 };

describeHypervisor('host clock [rust guest]', () => {
  it('realtime is nanoseconds since the epoch, close to Date.now()', () => {
    using sandbox = simpleSandbox('rust');
    for (let i = 0; i < 20; i++) {
      const before = Date.now();
      const ns = sandbox.call('ClockNs', 'u64', CLOCK_ID.realtime);
      const after = Date.now();
      expect(Number(ns / 1_000_000n)).toBeGreaterThanOrEqual(before - 1);
      expect(Number(ns / 1_000_000n)).toBeLessThanOrEqual(after + 1);
    }
  });

  it('monotonic and cpu never decrease across calls, sync and async', async () => {
    using sandbox = simpleSandbox('rust');
    for (const clock of ['monotonic', 'cpu'] as const) {
      let last = -1n;
      for (let i = 0; i < 50; i++) {
        const ns = i % 2 === 0 ? sandbox.call('ClockNs', 'u64', CLOCK_ID[clock]) : await sandbox.callAsync('ClockNs', 'u64', CLOCK_ID[clock]);
        expect(ns).toBeGreaterThanOrEqual(last);
        last = ns;
      }
    }
  });

  it('cpu counts guest work and not the time between calls', async () => {
    using sandbox = simpleSandbox('rust');
    const wallStart = process.hrtime.bigint();
    const start = sandbox.call('ClockNs', 'u64', CLOCK_ID.cpu);
    sandbox.call('SpinFor', 'u32', 20_000_000);
    const afterWork = sandbox.call('ClockNs', 'u64', CLOCK_ID.cpu);
    const wallWork = process.hrtime.bigint() - wallStart;
    expect(afterWork - start).toBeGreaterThan(0n);
    expect(afterWork - start).toBeLessThanOrEqual(wallWork);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const afterIdle = sandbox.call('ClockNs', 'u64', CLOCK_ID.cpu);
    expect(afterIdle - afterWork).toBeLessThan(100_000_000n); // the 200 ms outside calls are not counted
  });

  it('returns exactly what a frozen clock option gives', () => {
    const frozen: Record<ClockName, bigint> = { realtime: 1_700_000_000_123_456_789n, monotonic: 42n, cpu: 2n ** 64n - 1n };
    using sandbox = simpleSandbox('rust', { clock: (clock) => frozen[clock] });
    for (let i = 0; i < 3; i++) {
      for (const clock of ['realtime', 'monotonic', 'cpu'] as const) expect(sandbox.call('ClockNs', 'u64', CLOCK_ID[clock])).toBe(frozen[clock]);
    }
  });

  it('lets the clock option coarsen the real clock', () => {
    using sandbox = simpleSandbox('rust', { clock: (_clock, readDefault) => (readDefault() / 1_000_000_000n) * 1_000_000_000n });
    const ns = sandbox.call('ClockNs', 'u64', CLOCK_ID.realtime);
    expect(ns % 1_000_000_000n).toBe(0n);
    expect(Math.abs(Number(ns / 1_000_000n) - Date.now())).toBeLessThan(2_000);
  });

  it('a call that reads no clock makes no CLOCK exit and never runs the clock option', () => {
    const clock = vi.fn<GuestClock>(() => 7n);
    const { backend, runs } = countingBackend();
    using sandbox = simpleSandbox('rust', { backend, clock });
    let before = runs();
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
    expect(runs() - before).toBe(1); // the HALT only
    expect(clock).not.toHaveBeenCalled();
    before = runs();
    expect(sandbox.call('ClockNs', 'u64', CLOCK_ID.monotonic)).toBe(7n);
    expect(runs() - before).toBe(2); // CLOCK, then HALT
    expect(clock).toHaveBeenCalledTimes(1);
  });

  it.each([3, 0x17, 0xffffffff])('an unknown clock id %d from the guest fails the call with GuestProtocolError and poisons the sandbox', (id) => {
    using sandbox = simpleSandbox('rust');
    using snapshot = sandbox.snapshot();
    const error = thrown(() => sandbox.call('ClockNs', 'u64', id));
    expect(error).toBeInstanceOf(GuestProtocolError);
    expect((error as GuestProtocolError).message).toContain(`unknown clock id ${id}`);
    expect(() => sandbox.call('Add', 'i32', 1, 2)).toThrow(PoisonedSandboxError);
    sandbox.restore(snapshot);
    expect(sandbox.call('ClockNs', 'u64', CLOCK_ID.monotonic)).toBeGreaterThan(0n);
  });

  it('a clock option that throws fails the call with HostCallbackError; the guest read 0 and the sandbox goes on', () => {
    let fail = true;
    using sandbox = simpleSandbox('rust', {
      clock: () => {
        if (fail) throw new Error('time source down');
        return 5n;
      },
    });
    const error = thrown(() => sandbox.call('ClockNs', 'u64', CLOCK_ID.realtime));
    expect(error).toBeInstanceOf(HostCallbackError);
    expect(error).toMatchObject({ callback: 'clock', detail: 'time source down' });
    expect(sandbox.poisoned).toBe(false);
    fail = false;
    expect(sandbox.call('ClockNs', 'u64', CLOCK_ID.realtime)).toBe(5n);
  });
});
