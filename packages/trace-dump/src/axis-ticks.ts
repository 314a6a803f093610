/**
 * Round tick values for an axis from `min` to `max`: steps of 1, 2 or 5
 * times a power of ten in the axis's unit, about `count` of them.
 * @example
 * axisTicks(0, 1000, 5); // [0, 200, 400, 600, 800, 1000]
 */
export function axisTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const rough = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

/** A unit to show values up to `max` in: its name and how many base units it is. */
export interface AxisUnit {
  readonly name: string;
  readonly size: number;
}

/** The time unit (ns, µs, ms, s) for an axis whose largest value is `maxNs`. */
export function timeUnit(maxNs: number): AxisUnit {
  if (maxNs >= 1e9) return { name: 's', size: 1e9 };
  if (maxNs >= 1e6) return { name: 'ms', size: 1e6 };
  if (maxNs >= 1e3) return { name: 'µs', size: 1e3 };
  return { name: 'ns', size: 1 };
}

/** The size unit (bytes, KiB, MiB, GiB) for an axis whose largest value is `maxBytes`. */
export function sizeUnit(maxBytes: number): AxisUnit {
  if (maxBytes >= 2 ** 30) return { name: 'GiB', size: 2 ** 30 };
  if (maxBytes >= 2 ** 20) return { name: 'MiB', size: 2 ** 20 };
  if (maxBytes >= 2 ** 10) return { name: 'KiB', size: 2 ** 10 };
  return { name: 'bytes', size: 1 };
}
