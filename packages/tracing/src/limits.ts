/**
 * Bounds on what the collector holds for one sandbox, so nothing a guest
 * writes makes it grow without limit. What a limit leaves out is counted
 * under `dropped.limit` (docs/tracing.md, "Limits").
 */
import { ConfigurationError } from '@hyperlight-ts/core';

/** The collector's memory bounds. */
export interface TraceLimits {
  /** Spans open at once in one sandbox; a span opened beyond it is dropped. */
  readonly maxOpenSpans: number;
  /** Fields kept per span or event (a span's later fields included); further fields are left out. */
  readonly maxFields: number;
  /** Spans kept in one run's tree for `onRun`; later spans are still streamed, but not in the tree. */
  readonly maxRunSpans: number;
  /** Events kept in one run's tree for `onRun`; later events are still streamed, but not in the tree. */
  readonly maxRunEvents: number;
}

/** The limits a tracer uses where its options set none. */
export const DEFAULT_TRACE_LIMITS: TraceLimits = {
  maxOpenSpans: 1024,
  maxFields: 64,
  maxRunSpans: 10_000,
  maxRunEvents: 10_000,
};

/**
 * The defaults overridden by `limits`.
 * @throws ConfigurationError for an unknown key or a value that is not a positive safe integer.
 */
export function resolveTraceLimits(limits: Partial<TraceLimits> | undefined): TraceLimits {
  if (limits === undefined) return DEFAULT_TRACE_LIMITS;
  if (typeof limits !== 'object' || limits === null) throw new ConfigurationError('limits', `expected an object, got ${String(limits)}`);
  const resolved: Record<string, number> = { ...DEFAULT_TRACE_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_TRACE_LIMITS)) {
      throw new ConfigurationError(`limits.${key}`, `unknown limit; known: ${Object.keys(DEFAULT_TRACE_LIMITS).join(', ')}`);
    }
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ConfigurationError(`limits.${key}`, `expected a positive whole number, got ${String(value)}`);
    }
    resolved[key] = value;
  }
  return resolved as unknown as TraceLimits;
}
