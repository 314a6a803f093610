/**
 * The trace area's header (docs/tracing-format.md, "The trace area"): the
 * host writes a collector's run settings into it before a run, and drains the
 * records the guest appended after it on every exit. Records themselves are
 * the collector's to decode; here they are only bytes.
 */
import { Abi } from '../abi/generated.js';
import { ConfigurationError } from '../errors.js';
import type { TraceRunSettings } from '../sandbox/guest-tracing.js';
import { LogLevel } from './codec.js';

/** The longest target-filter prefix in UTF-8 bytes (its length is a u8). */
const MAX_FILTER_PREFIX_SIZE = 255;

/** What one drain of the trace area gave. */
export interface TraceDrain {
  /** The `used` bytes of records, as the guest wrote them (unvalidated); a view of the area. */
  readonly records: Uint8Array;
  /** Records lost since the previous drain: the guest's own count, plus one when its `used` was impossible. */
  readonly lost: number;
}

const utf8 = new TextEncoder();

/**
 * Encodes a whole trace-area header for `settings`: `used` and `lost` 0, the
 * settings, zeros everywhere else (so nothing of an earlier run's filter or
 * traceparent is left behind).
 * @returns {@link Abi.TRACE_HEADER_SIZE} bytes
 * @throws ConfigurationError (`tracing`) when a setting has the wrong type or
 *   does not fit the header: a filter prefix over 255 UTF-8 bytes, a filter
 *   over `TRACE_FILTER_CAPACITY` bytes, a traceparent that is not printable
 *   ASCII of at most `TRACE_TRACEPARENT_CAPACITY` bytes.
 */
export function encodeTraceHeader(settings: TraceRunSettings): Uint8Array {
  const fail: (detail: string) => never = (detail) => {
    throw new ConfigurationError('tracing', `the trace session's run settings are invalid: ${detail}`);
  };
  if (typeof settings !== 'object' || settings === null) fail(`expected an object, got ${settings === null ? 'null' : typeof settings}`);
  const { enabled, level, filter, runtimeSpans, memoryProfile, traceparent } = settings;
  if (typeof enabled !== 'boolean' || typeof runtimeSpans !== 'boolean' || typeof memoryProfile !== 'boolean') {
    fail('enabled, runtimeSpans and memoryProfile must be booleans');
  }
  const header = new Uint8Array(Abi.TRACE_HEADER_SIZE);
  header[Abi.TRACE_OFFSET_LEVEL] = checkLevel(level, 'level', fail);
  header[Abi.TRACE_OFFSET_FLAGS] =
    (enabled ? Abi.TRACE_FLAG_ENABLED : 0) | (runtimeSpans ? Abi.TRACE_FLAG_RUNTIME_SPANS : 0) | (memoryProfile ? Abi.TRACE_FLAG_MEMORY : 0);

  if (!Array.isArray(filter)) fail('filter must be an array');
  let at = Abi.TRACE_OFFSET_FILTER;
  const filterEnd = Abi.TRACE_OFFSET_FILTER + Abi.TRACE_FILTER_CAPACITY;
  filter.forEach((entry, index) => {
    const what = `filter[${index}]`;
    if (typeof entry !== 'object' || entry === null || typeof entry.prefix !== 'string') fail(`${what} must be { prefix: string, level }`);
    const prefix = utf8.encode(entry.prefix);
    if (prefix.byteLength > MAX_FILTER_PREFIX_SIZE) fail(`${what}.prefix is ${prefix.byteLength} UTF-8 bytes, more than ${MAX_FILTER_PREFIX_SIZE}`);
    if (at + 2 + prefix.byteLength > filterEnd) {
      fail(`the filter does not fit the ${Abi.TRACE_FILTER_CAPACITY} bytes the trace area holds for it (2 bytes per entry plus its prefix); it ends at ${what}`);
    }
    header[at] = checkLevel(entry.level, `${what}.level`, fail);
    header[at + 1] = prefix.byteLength;
    header.set(prefix, at + 2);
    at += 2 + prefix.byteLength;
  });
  // Each entry takes at least 2 of the 432 bytes, so the count fits its u8.
  header[Abi.TRACE_OFFSET_FILTER_COUNT] = filter.length;

  if (traceparent !== undefined) {
    if (typeof traceparent !== 'string' || !/^[\x20-\x7e]*$/.test(traceparent) || traceparent.length > Abi.TRACE_TRACEPARENT_CAPACITY) {
      fail(`traceparent must be printable ASCII of at most ${Abi.TRACE_TRACEPARENT_CAPACITY} characters, got ${typeof traceparent === 'string' ? JSON.stringify(traceparent.slice(0, 80)) : typeof traceparent}`);
    }
    header[Abi.TRACE_OFFSET_TRACEPARENT_LENGTH] = traceparent.length;
    header.set(utf8.encode(traceparent), Abi.TRACE_OFFSET_TRACEPARENT);
  }
  return header;
}

function checkLevel(level: unknown, what: string, fail: (detail: string) => never): number {
  if (typeof level !== 'number' || !Number.isInteger(level) || level < LogLevel.Trace || level > LogLevel.Off) {
    fail(`${what} must be a LogLevel from ${LogLevel.Trace} (Trace) to ${LogLevel.Off} (Off), got ${String(level)}`);
  }
  return level as number;
}

/**
 * The trace area of one sandbox, drained on every exit: each drain hands
 * over the records the guest appended and resets `used` and `lost` to 0, so
 * each record is handed over once. Never reads outside the area.
 */
export class TraceAreaDrain {
  readonly #area: Uint8Array;
  /** Made once: a DataView per exit would cost more than the check it serves. */
  readonly #header: DataView;

  /** @param area - the whole trace area (at least {@link Abi.TRACE_HEADER_SIZE} bytes) */
  constructor(area: Uint8Array) {
    this.#area = area;
    this.#header = new DataView(area.buffer, area.byteOffset, Abi.TRACE_HEADER_SIZE);
  }

  /**
   * Takes what the guest appended: `records` is a view of the `used` bytes
   * after the header (not a copy: valid until the guest runs again), `lost`
   * the guest's count. A `used` beyond the area is not believed: no records,
   * and the batch counts as one lost record.
   * @returns undefined when there is nothing (`used` and `lost` both 0)
   * @throws never
   */
  drain(): TraceDrain | undefined {
    const header = this.#header;
    const used = header.getUint32(Abi.TRACE_OFFSET_USED, true);
    const lost = header.getUint32(Abi.TRACE_OFFSET_LOST, true);
    if (used === 0 && lost === 0) return undefined;
    header.setUint32(Abi.TRACE_OFFSET_USED, 0, true);
    header.setUint32(Abi.TRACE_OFFSET_LOST, 0, true);
    const area = this.#area;
    if (used > area.byteLength - Abi.TRACE_HEADER_SIZE) return { records: area.subarray(0, 0), lost: lost + 1 };
    return { records: area.subarray(Abi.TRACE_HEADER_SIZE, Abi.TRACE_HEADER_SIZE + used), lost };
  }
}
