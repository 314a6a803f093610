/**
 * Level names and numbers as the collector reads them from its options and
 * from guest records (the `LogLevel` numbers, docs/tracing-format.md).
 */
import { ConfigurationError, LogLevel, logLevelName, type LogLevelName } from '@hyperlight-ts/core';

import type { TraceLevelName } from './file/index.js';

/** A level as an option takes it: a {@link LogLevel} number or its lower-case name. */
export type TraceLevelOption = LogLevel | LogLevelName;

const LEVEL_NAMES: readonly LogLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'];

/**
 * Reads a level option.
 * @throws ConfigurationError naming `option` for anything but a LogLevel number or name.
 */
export function parseTraceLevel(value: unknown, option: string): LogLevel {
  if (typeof value === 'string') {
    const index = LEVEL_NAMES.indexOf(value.toLowerCase() as LogLevelName);
    if (index >= 0) return index as LogLevel;
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= LogLevel.Trace && value <= LogLevel.Off) {
    return value as LogLevel;
  }
  throw new ConfigurationError(option, `expected a LogLevel (${LogLevel.Trace}-${LogLevel.Off}) or one of ${LEVEL_NAMES.join(', ')}, got ${String(value)}`);
}

/** The name of a span's or event's level byte; undefined for anything above `Critical` (not a record level). */
export function recordLevelName(level: number): TraceLevelName | undefined {
  return level >= LogLevel.Trace && level <= LogLevel.Critical ? (logLevelName(level as LogLevel) as TraceLevelName) : undefined;
}
