/** Human-readable durations and sizes for the CLI's text and SVG output. */

/**
 * A duration in nanoseconds with a unit that keeps 3–4 significant digits:
 * `850 ns`, `12.5 µs`, `1.234 ms`, `2.500 s`.
 * @example
 * formatDurationNs(1_234_000); // '1.234 ms'
 */
export function formatDurationNs(durationNs: number): string {
  const abs = Math.abs(durationNs);
  if (abs < 1_000) return `${durationNs} ns`;
  if (abs < 1_000_000) return `${trim(durationNs / 1_000)} µs`;
  if (abs < 1_000_000_000) return `${trim(durationNs / 1_000_000)} ms`;
  return `${trim(durationNs / 1_000_000_000)} s`;
}

/**
 * A size in bytes, exact below 1 KiB and in binary units above:
 * `512 B`, `1.5 KiB`, `3.25 MiB`.
 * @example
 * formatBytes(1536); // '1.5 KiB'
 */
export function formatBytes(sizeBytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = sizeBytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${trim(value)} ${units[unit]!}`;
}

/** Three decimals at most, trailing zeros dropped. */
function trim(value: number): string {
  return value.toFixed(3).replace(/\.?0+$/, '');
}
