/**
 * Turns one sandbox's guest time stamp counter (TSC) readings into host time:
 * nanoseconds since the session started (docs/tracing.md, "Accuracy of times").
 *
 * Each run is anchored on its RUN_START record: that record's TSC is taken to
 * be the host time `beginRun` saw just before entering the guest. Other
 * records are placed from the anchor by the TSC frequency, which comes from
 * the hypervisor or is estimated from anchors across runs. Every time is then
 * clamped into the run (never before `beginRun`, never after the drain that
 * delivered it or `endRun`) and kept from going backwards.
 */

/** Where the TSC frequency came from. */
export type TscClockSource = 'hypervisor' | 'estimated';

/** A TSC reading and the host time (ns since the session started) it is taken to match. */
interface Anchor {
  readonly tsc: bigint;
  readonly ns: number;
}

/**
 * Shortest span of host time between the session's first run start and a
 * later one for that pair to give the frequency estimate (1 ms); below it the
 * latest drain is used instead.
 */
export const MIN_ESTIMATE_BASELINE_NS = 1_000_000;
/** Frequencies outside these bounds are taken as bad readings and ignored (1 MHz to 100 GHz). */
const MIN_FREQUENCY_HZ = 1e6;
const MAX_FREQUENCY_HZ = 1e11;
const NS_PER_S = 1e9;

/** One sandbox's TSC-to-host-time conversion. */
export class TscClock {
  /** Whether the frequency came from the hypervisor or is being estimated. */
  readonly source: TscClockSource;
  #frequencyHz: number | undefined;
  /** The estimate's baseline: the earliest run start (moved on if the TSC ever goes back). */
  #base: Anchor | undefined;
  #latestRunStart: Anchor | undefined;
  /** The latest drain: its last record's TSC and the host time of the drain. */
  #latestDrain: Anchor | undefined;
  /** The latest run's anchor; kept after the run for runs whose RUN_START never arrives. */
  #anchor: Anchor | undefined;
  #runStartNs = 0;
  /** Latest host time a record of this run can have: the latest drain, then the run's end. */
  #boundNs = 0;
  #lastNs = 0;

  /**
   * @param sessionStartNs - `process.hrtime.bigint()` when the session opened (time 0)
   * @param tscFrequencyHz - the guest TSC's frequency from the hypervisor, if it reported one
   */
  constructor(
    private readonly sessionStartNs: bigint,
    tscFrequencyHz: number | undefined,
  ) {
    const known = tscFrequencyHz !== undefined && plausible(tscFrequencyHz);
    this.source = known ? 'hypervisor' : 'estimated';
    this.#frequencyHz = known ? tscFrequencyHz : undefined;
  }

  /** The TSC frequency in Hz in use; undefined while no estimate exists yet. */
  get frequencyHz(): number | undefined {
    return this.#frequencyHz;
  }

  /** Host time `hrtime` (from `process.hrtime.bigint()`) as nanoseconds since the session started. */
  sessionNs(hrtime: bigint): number {
    return Number(hrtime - this.sessionStartNs);
  }

  /** A run starts at host time `hrtime`; returns its start in session nanoseconds. */
  beginRun(hrtime: bigint): number {
    const ns = Math.max(this.sessionNs(hrtime), this.#lastNs);
    this.#runStartNs = ns;
    this.#boundNs = ns;
    this.#lastNs = ns;
    return ns;
  }

  /** The run's RUN_START record, with its TSC: the run's anchor. */
  runStarted(tsc: bigint): void {
    const anchor = { tsc, ns: this.#runStartNs };
    this.#anchor = anchor;
    this.#latestRunStart = anchor;
    if (this.#base === undefined || tsc <= this.#base.tsc) this.#base = anchor;
    this.#estimate();
  }

  /**
   * Records drained at host time `hrtime` are about to be converted; `lastTsc`
   * is the TSC of the batch's last record when known (it was made before the
   * drain, so the pair refines an estimate while runs are short).
   */
  drained(hrtime: bigint, lastTsc: bigint | undefined): void {
    const ns = this.sessionNs(hrtime);
    this.#boundNs = Math.max(this.#boundNs, ns);
    if (lastTsc === undefined) return;
    this.#latestDrain = { tsc: lastTsc, ns };
    this.#estimate();
  }

  /**
   * Whether {@link drained} can still use a batch's last TSC: only an
   * estimated clock whose run starts are not yet far enough apart does.
   */
  get wantsDrainTsc(): boolean {
    const base = this.#base;
    const start = this.#latestRunStart;
    return this.source === 'estimated' && !(base !== undefined && start !== undefined && start.ns - base.ns >= MIN_ESTIMATE_BASELINE_NS);
  }

  /** A TSC reading of the current run as session nanoseconds, clamped into the run and never before the previous one. */
  toNs(tsc: bigint): number {
    const anchor = this.#anchor;
    const frequencyHz = this.#frequencyHz;
    let ns = this.#runStartNs;
    if (anchor !== undefined && frequencyHz !== undefined) ns = Math.round(anchor.ns + (Number(tsc - anchor.tsc) * NS_PER_S) / frequencyHz);
    ns = Math.min(Math.max(ns, this.#lastNs), this.#boundNs);
    this.#lastNs = ns;
    return ns;
  }

  /** The run ended at host time `hrtime`; returns its end in session nanoseconds (never before its last record). */
  endRun(hrtime: bigint): number {
    const ns = Math.max(this.sessionNs(hrtime), this.#lastNs);
    this.#boundNs = ns;
    this.#lastNs = ns;
    return ns;
  }

  /**
   * Re-estimates the frequency from the baseline and the latest run start
   * once they are far enough apart, else from the latest drain (biased low by
   * the exit latency, so used only until run starts give a baseline; a
   * session's first batch is drained before its RUN_START is read, so the
   * run start re-estimates too).
   */
  #estimate(): void {
    const base = this.#base;
    if (this.source === 'hypervisor' || base === undefined) return;
    const start = this.#latestRunStart;
    const pair = start !== undefined && start.ns - base.ns >= MIN_ESTIMATE_BASELINE_NS ? start : this.#latestDrain;
    if (pair === undefined || pair.ns <= base.ns || pair.tsc <= base.tsc) return;
    const frequencyHz = (Number(pair.tsc - base.tsc) * NS_PER_S) / (pair.ns - base.ns);
    if (plausible(frequencyHz)) this.#frequencyHz = frequencyHz;
  }
}

/** A frequency a real TSC can have. */
function plausible(frequencyHz: number): boolean {
  return Number.isFinite(frequencyHz) && frequencyHz >= MIN_FREQUENCY_HZ && frequencyHz <= MAX_FREQUENCY_HZ;
}
