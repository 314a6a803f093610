/**
 * Host monotonic time (`process.hrtime.bigint()`) as Unix-epoch time, with
 * the same source OpenTelemetry JS uses for its own span times
 * (`performance.timeOrigin + performance.now()`), so host and guest spans
 * line up in one trace.
 */
import { performance } from 'node:perf_hooks';

/** `process.hrtime.bigint()` now, and the same moment in nanoseconds since the Unix epoch. */
export interface UnixClockReading {
  readonly hrtime: bigint;
  readonly unixNano: bigint;
}

/** Reads both clocks together (one offset per session; they drift apart only as the wall clock is slewed). */
export function readUnixClock(): UnixClockReading {
  const hrtime = process.hrtime.bigint();
  const unixMs = performance.timeOrigin + performance.now();
  return { hrtime, unixNano: BigInt(Math.round(unixMs * 1e6)) };
}
