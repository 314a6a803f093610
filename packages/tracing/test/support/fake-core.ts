/**
 * Test support: plays core's side of a trace session (docs/tracing-format.md,
 * "Who writes what, and when") without a hypervisor — beginRun before a run,
 * records() once per drained batch, endRun, close.
 */
import type { GuestTraceSession, GuestTracing, TraceRunSettings, TraceSessionInfo } from '@hyperlight-ts/core';

/** A 1 GHz guest TSC: ticks are nanoseconds. */
export const TSC_HZ = 1_000_000_000;

/** Session info of a made-up guest. */
export function sessionInfo(overrides: Partial<TraceSessionInfo> = {}): TraceSessionInfo {
  return { guestDigest: 'ab'.repeat(32), imageBase: 0x200000, linkBase: 0, tscFrequencyHz: TSC_HZ, traceAreaSize: 65536, ...overrides };
}

/** One run as the fake core drives it. */
export interface FakeRun {
  readonly operation?: 'init' | 'call';
  readonly functionName?: string;
  /** Host time of beginRun, ns after the fake core's time 0. */
  readonly beginNs?: number;
  /** Batches drained, each with the host time of its drain and the guest's `lost`. */
  readonly batches: readonly { readonly bytes: Uint8Array; readonly atNs: number; readonly lost?: number }[];
  readonly endNs: number;
  readonly error?: Error;
}

/** A sandbox's side of a session, with host times relative to a time 0 taken after open. */
export class FakeCore {
  readonly session: GuestTraceSession;
  readonly t0: bigint;
  readonly settings: TraceRunSettings[] = [];

  constructor(tracing: GuestTracing, info: TraceSessionInfo = sessionInfo()) {
    this.session = tracing.open(info);
    this.t0 = process.hrtime.bigint();
  }

  /** Runs one run: beginRun, each batch once, endRun. */
  run(run: FakeRun): TraceRunSettings {
    const settings = this.session.beginRun({ operation: run.operation ?? 'call', functionName: run.functionName ?? (run.operation === 'init' ? undefined : 'Work'), hostTimeNs: this.at(run.beginNs ?? 0) });
    this.settings.push(settings);
    for (const batch of run.batches) this.session.records(batch.bytes, batch.lost ?? 0, this.at(batch.atNs));
    this.session.endRun(this.at(run.endNs), run.error);
    return settings;
  }

  /** Host time `ns` after time 0. */
  at(ns: number): bigint {
    return this.t0 + BigInt(ns);
  }
}
