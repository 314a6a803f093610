import { describe, expect, it } from 'vitest';

import { MIN_ESTIMATE_BASELINE_NS, TscClock } from '../../src/clock/tsc-clock.js';

const START = 1_000_000_000n;
const at = (ns: number) => START + BigInt(ns);

describe('TscClock', () => {
  it('places records from the run start by the hypervisor frequency', () => {
    const clock = new TscClock(START, 2_000_000_000);
    expect(clock.source).toBe('hypervisor');
    expect(clock.beginRun(at(1000))).toBe(1000);
    clock.runStarted(5_000_000n);
    clock.drained(at(100_000), undefined);
    expect(clock.toNs(5_000_000n)).toBe(1000);
    expect(clock.toNs(5_002_000n)).toBe(2000); // 2000 ticks at 2 GHz = 1 µs
    expect(clock.toNs(5_100_000n)).toBe(51_000);
    expect(clock.endRun(at(120_000))).toBe(120_000);
  });

  it('clamps times into the run and keeps them from going backwards', () => {
    const clock = new TscClock(START, 1_000_000_000);
    clock.beginRun(at(1000));
    clock.runStarted(10_000n);
    clock.drained(at(5000), undefined);
    expect(clock.toNs(9_000n)).toBe(1000); // before the run start: at the start
    expect(clock.toNs(12_000n)).toBe(3000);
    expect(clock.toNs(11_000n)).toBe(3000); // never backwards
    expect(clock.toNs(99_000n)).toBe(5000); // never past the drain that delivered it
    expect(clock.endRun(at(4000))).toBe(5000); // the end is never before the last record
  });

  it('uses the previous anchor for a run whose RUN_START is missing', () => {
    const clock = new TscClock(START, 1_000_000_000);
    clock.beginRun(at(0));
    clock.runStarted(0n);
    clock.endRun(at(10_000));
    clock.beginRun(at(50_000));
    clock.drained(at(90_000), undefined);
    expect(clock.toNs(60_000n)).toBe(60_000);
  });

  it('estimates the frequency from run starts across runs', () => {
    const clock = new TscClock(START, undefined);
    expect(clock.source).toBe('estimated');
    expect(clock.frequencyHz).toBeUndefined();
    // A 3 GHz guest entered 2 µs after each beginRun (the same latency cancels out).
    const entry = (hostNs: number) => BigInt(Math.round((hostNs + 2000) * 3));
    clock.beginRun(at(0));
    clock.runStarted(entry(0));
    clock.endRun(at(10_000));
    clock.beginRun(at(5_000_000));
    clock.runStarted(entry(5_000_000));
    expect(clock.frequencyHz).toBeCloseTo(3e9, -3);
    clock.drained(at(5_100_000), undefined);
    expect(clock.toNs(entry(5_000_000) + 30_000n)).toBe(5_010_000);
  });

  it('estimates from the latest drain while run starts are closer than the baseline', () => {
    const clock = new TscClock(START, undefined);
    clock.beginRun(at(0));
    clock.runStarted(1_000n);
    // The last record, 2 ms of 1 GHz ticks later, drained 2 ms after the start.
    clock.drained(at(2_000_000), 2_001_000n);
    expect(clock.frequencyHz).toBeCloseTo(1e9, -3);
    expect(clock.toNs(1_001_000n)).toBe(1_000_000);
    expect(MIN_ESTIMATE_BASELINE_NS).toBe(1_000_000);
  });

  it('estimates within the first batch, drained before its RUN_START is read', () => {
    const clock = new TscClock(START, undefined);
    clock.beginRun(at(0));
    clock.drained(at(100_000), 2_000n + 200_000n); // 2 GHz: the last record 100 µs after the run start
    clock.runStarted(2_000n);
    expect(clock.frequencyHz).toBeCloseTo(2e9, -3);
    expect(clock.toNs(2_000n + 100_000n)).toBe(50_000);
  });

  it('places every record at the run start while no estimate exists', () => {
    const clock = new TscClock(START, undefined);
    clock.beginRun(at(500));
    clock.runStarted(10n);
    clock.drained(at(900), undefined);
    expect(clock.toNs(20n)).toBe(500);
  });

  it('ignores an implausible hypervisor frequency and implausible estimates', () => {
    expect(new TscClock(START, 0).source).toBe('estimated');
    expect(new TscClock(START, Number.NaN).source).toBe('estimated');
    const clock = new TscClock(START, undefined);
    clock.beginRun(at(0));
    clock.runStarted(0n);
    clock.drained(at(2_000_000), 1n); // 0.5 Hz: not a TSC
    expect(clock.frequencyHz).toBeUndefined();
  });

  it('restarts the estimate when the TSC goes back between runs', () => {
    const clock = new TscClock(START, undefined);
    clock.beginRun(at(0));
    clock.runStarted(1_000_000_000n);
    clock.endRun(at(1000));
    clock.beginRun(at(2_000_000));
    clock.runStarted(100n); // e.g. a new vCPU: the base moves here
    clock.endRun(at(2_001_000));
    clock.beginRun(at(4_000_000));
    clock.runStarted(100n + 4_000_000n); // 2 ms of 2 GHz
    expect(clock.frequencyHz).toBeCloseTo(2e9, -3);
  });
});
