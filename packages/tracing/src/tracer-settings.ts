/**
 * The settings a tracer writes into the trace area before each run: what the
 * guest records. They can change between runs (`tracer.configure`).
 */
import { ConfigurationError, LogLevel, parseLogLevel, type TraceFilterEntry, type TraceRunSettings } from '@hyperlight-ts/core';
import { Abi } from '@hyperlight-ts/core/backend';

import type { TraceLevelOption } from './levels.js';

/** What the guest records; every field is optional and keeps its current value when left out. */
export interface GuestTracerSettings {
  /**
   * Record anything at all (default true). False pauses tracing: the guest
   * records nothing (not even runtime spans or allocations) and pays one
   * branch per span or event.
   */
  readonly enabled?: boolean;
  /** Least severe level recorded where no filter entry matches (default `'info'`). */
  readonly level?: TraceLevelOption;
  /**
   * Levels by target prefix; the longest matching prefix wins, e.g.
   * `{ 'my_guest::db': 'trace', 'my_guest::http': 'off' }`. At most 255
   * entries, prefixes at most 255 UTF-8 bytes, and 432 bytes in all (each
   * entry takes 2 bytes plus its prefix). Replaces the whole filter.
   */
  readonly filter?: Readonly<Record<string, TraceLevelOption>>;
  /** The guest runtime records its own work: a span around each guest function and each host call (default false). */
  readonly runtimeSpans?: boolean;
  /** The guest allocator records allocations and frees with stack traces (default false). */
  readonly memoryProfile?: boolean;
}

/** Settings with every value present, as written before a run (less the traceparent). */
export type ResolvedTracerSettings = Omit<TraceRunSettings, 'traceparent'>;

/** The settings of a tracer whose options set none. */
export const DEFAULT_TRACER_SETTINGS: ResolvedTracerSettings = Object.freeze({
  enabled: true,
  level: LogLevel.Info,
  filter: Object.freeze([]),
  runtimeSpans: false,
  memoryProfile: false,
});

/** What the guest gets while a tracer is not `enabled`: nothing recorded at all. */
const PAUSED_SETTINGS: ResolvedTracerSettings = Object.freeze({
  enabled: false,
  level: LogLevel.Off,
  filter: Object.freeze([]),
  runtimeSpans: false,
  memoryProfile: false,
});

/**
 * The settings written into the trace area for `settings`: all off while not
 * enabled, and also when nothing could be recorded (level and every filter
 * entry Off, no memory profile), so the guest then writes no records at all.
 */
export function guestSettings(settings: ResolvedTracerSettings): ResolvedTracerSettings {
  const recordsAnything = settings.memoryProfile || settings.level < LogLevel.Off || settings.filter.some((entry) => entry.level < LogLevel.Off);
  return settings.enabled && recordsAnything ? settings : PAUSED_SETTINGS;
}

const FILTER_ENTRY_HEADER_SIZE = 2;
const MAX_FILTER_ENTRIES = 255;
const MAX_PREFIX_SIZE = 255;

/**
 * `current` with the values `settings` gives.
 * @throws ConfigurationError naming the option that is invalid.
 */
export function resolveTracerSettings(settings: GuestTracerSettings, current: ResolvedTracerSettings): ResolvedTracerSettings {
  return Object.freeze({
    enabled: flag(settings.enabled, current.enabled, 'enabled'),
    level: settings.level === undefined ? current.level : parseLogLevel(settings.level, 'level'),
    filter: settings.filter === undefined ? current.filter : parseFilter(settings.filter),
    runtimeSpans: flag(settings.runtimeSpans, current.runtimeSpans, 'runtimeSpans'),
    memoryProfile: flag(settings.memoryProfile, current.memoryProfile, 'memoryProfile'),
  });
}

function flag(value: unknown, current: boolean, option: string): boolean {
  if (value === undefined) return current;
  if (typeof value !== 'boolean') throw new ConfigurationError(option, `expected true or false, got ${String(value)}`);
  return value;
}

/** The filter as entries that fit the trace area's header. */
function parseFilter(filter: Readonly<Record<string, TraceLevelOption>>): readonly TraceFilterEntry[] {
  if (typeof filter !== 'object' || filter === null) throw new ConfigurationError('filter', `expected an object of target prefix to level, got ${String(filter)}`);
  const entries = Object.entries(filter);
  if (entries.length > MAX_FILTER_ENTRIES) throw new ConfigurationError('filter', `at most ${MAX_FILTER_ENTRIES} entries, got ${entries.length}`);
  let totalSize = 0;
  const parsed = entries.map(([prefix, level]): TraceFilterEntry => {
    const prefixSize = Buffer.byteLength(prefix, 'utf8');
    if (prefixSize > MAX_PREFIX_SIZE) throw new ConfigurationError('filter', `the prefix "${prefix.slice(0, 40)}…" is ${prefixSize} UTF-8 bytes; at most ${MAX_PREFIX_SIZE}`);
    totalSize += FILTER_ENTRY_HEADER_SIZE + prefixSize;
    return Object.freeze({ prefix, level: parseLogLevel(level, `filter["${prefix}"]`) });
  });
  if (totalSize > Abi.TRACE_FILTER_CAPACITY) {
    throw new ConfigurationError('filter', `takes ${totalSize} bytes in the trace area; at most ${Abi.TRACE_FILTER_CAPACITY} (2 per entry plus its prefix)`);
  }
  return Object.freeze(parsed);
}
