/**
 * The clocks a guest reads with the CLOCK exit (docs/abi.md, "Host clock"):
 * the readings a sandbox gives by default, and the `clock` option through
 * which an embedder answers instead (a frozen clock for deterministic runs,
 * a coarse one against timing side channels).
 */
import { Abi } from '../abi/generated.js';
import { GuestProtocolError, HostCallbackError } from '../errors.js';
import { describeThrown } from './safe-text.js';

/**
 * A clock the guest may read, by the name of its `CLOCK_ID_*`:
 * `'realtime'` is nanoseconds since the Unix epoch, `'monotonic'` nanoseconds
 * since an origin the host picks, `'cpu'` nanoseconds the sandbox has run.
 */
export type ClockName = 'realtime' | 'monotonic' | 'cpu';

/**
 * The `clock` sandbox option: answers every clock read of the guest, in
 * nanoseconds — a `bigint` from 0 to 2^64 - 1, or a `number` that is a
 * non-negative safe integer. `readDefault()` gives the reading the sandbox
 * would return without the option, so a clock can adjust the real one
 * instead of replacing it. It runs on the thread that runs the guest, while
 * the guest waits; if it throws or returns anything else, the guest reads 0,
 * runs on, and the call then fails with `HostCallbackError`.
 * @example
 * // Frozen: every guest run sees the same instant.
 * const frozen: GuestClock = (clock) => (clock === 'realtime' ? 1_700_000_000_000_000_000n : 0n);
 * // Coarse: the real clocks, cut to whole milliseconds.
 * const coarse: GuestClock = (_clock, readDefault) => (readDefault() / 1_000_000n) * 1_000_000n;
 */
export type GuestClock = (clock: ClockName, readDefault: () => bigint) => bigint | number;

/** `CLOCK_ID_*` values, indexed by id. */
const CLOCK_NAMES: readonly ClockName[] = (() => {
  const names: ClockName[] = [];
  names[Abi.CLOCK_ID_REALTIME] = 'realtime';
  names[Abi.CLOCK_ID_MONOTONIC] = 'monotonic';
  names[Abi.CLOCK_ID_CPU] = 'cpu';
  return names;
})();

/**
 * The clock a CLOCK exit asks for.
 * @param id - the value the guest wrote (untrusted)
 * @throws GuestProtocolError when `id` is no `CLOCK_ID_*`.
 */
export function clockNameOf(id: number): ClockName {
  const name = CLOCK_NAMES[id];
  if (name === undefined) throw new GuestProtocolError(`the guest asked for unknown clock id ${id} (expected a CLOCK_ID_*, 0 to ${CLOCK_NAMES.length - 1})`);
  return name;
}

/** The largest reading a clock may give: the PEB field is a u64. */
const MAX_CLOCK_NS = 2n ** 64n - 1n;

/** How far, in nanoseconds, the realtime reading may stray from `Date.now()` before it is anchored again. */
const REALTIME_TOLERANCE_NS = 1_000_000n;

/** The wall clock paired with the monotonic clock at one instant; moved when the wall clock is set. */
const realtimeAnchor = { epochNs: 0n, hrtimeNs: 0n };

/**
 * Nanoseconds since the Unix epoch. `Date.now()` alone has millisecond
 * resolution; this adds the monotonic clock's nanoseconds since an anchor,
 * and re-anchors whenever the result strays more than a millisecond from
 * `Date.now()` (the wall clock was set or slewed).
 */
function realtimeNs(): bigint {
  const hrtimeNs = process.hrtime.bigint();
  const wallNs = BigInt(Date.now()) * 1_000_000n;
  const ns = realtimeAnchor.epochNs + (hrtimeNs - realtimeAnchor.hrtimeNs);
  if (ns - wallNs < REALTIME_TOLERANCE_NS && wallNs - ns < REALTIME_TOLERANCE_NS) return ns;
  realtimeAnchor.epochNs = wallNs;
  realtimeAnchor.hrtimeNs = hrtimeNs;
  return wallNs;
}

/**
 * One sandbox's clocks. Monotonic time counts from the sandbox's creation.
 * CPU time is the time the sandbox's guest runs took (host functions and
 * callbacks the guest waited for included); it is only metered once the
 * guest (or the `clock` option) has read it, so sandboxes that never do pay
 * nothing per call, and its first reading is 0.
 */
export class SandboxClock {
  private readonly originNs = process.hrtime.bigint();
  /** Whether runs are metered: set by the first CPU reading. */
  private metering = false;
  /** Run time metered before the current run, in nanoseconds. */
  private usedNs = 0n;
  /** When the current run began (or when metering began, if later). */
  private runStartNs = 0n;

  /** @param custom - the `clock` option, when set */
  constructor(private readonly custom: GuestClock | undefined) {}

  /** Call as a guest run begins. */
  beginRun(): void {
    if (this.metering) this.runStartNs = process.hrtime.bigint();
  }

  /** Call as a guest run ends. */
  endRun(): void {
    if (this.metering) this.usedNs += process.hrtime.bigint() - this.runStartNs;
  }

  /**
   * The reading for `clock`, from the `clock` option when set.
   * @throws HostCallbackError when the option throws or returns no valid reading.
   */
  read(clock: ClockName): bigint {
    if (this.custom === undefined) return this.readDefault(clock);
    let value: unknown;
    try {
      value = this.custom(clock, () => this.readDefault(clock));
    } catch (error) {
      throw new HostCallbackError('clock', describeThrown(error), { cause: error });
    }
    if (typeof value === 'bigint' && value >= 0n && value <= MAX_CLOCK_NS) return value;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    const shown = typeof value === 'bigint' || typeof value === 'number' || value == null ? String(value) : `a ${typeof value}`;
    throw new HostCallbackError('clock', `returned ${shown} for the ${clock} clock; expected a whole number of nanoseconds from 0 to 2^64 - 1`);
  }

  /** The reading without the `clock` option. */
  private readDefault(clock: ClockName): bigint {
    switch (clock) {
      case 'realtime':
        return realtimeNs();
      case 'monotonic':
        return process.hrtime.bigint() - this.originNs;
      case 'cpu':
        return this.cpuNs();
    }
  }

  private cpuNs(): bigint {
    const now = process.hrtime.bigint();
    if (!this.metering) {
      // Reads happen inside a run: metering starts now, and endRun() closes this run.
      this.metering = true;
      this.runStartNs = now;
    }
    return this.usedNs + (now - this.runStartNs);
  }
}
