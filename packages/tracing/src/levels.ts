/**
 * Level names and numbers as the collector reads them from its options and
 * from guest records (the `LogLevel` numbers, docs/tracing-format.md).
 */
import { LogLevel, logLevelName, type LogLevelName } from '@hyperlight-ts/core';

import type { TraceLevelName } from './file/index.js';

/** A level as an option takes it: a {@link LogLevel} number or its lower-case name. */
export type TraceLevelOption = LogLevel | LogLevelName;

/** The name of a span's or event's level byte; undefined for anything above `Critical` (not a record level). */
export function recordLevelName(level: number): TraceLevelName | undefined {
  return level >= LogLevel.Trace && level <= LogLevel.Critical ? (logLevelName(level as LogLevel) as TraceLevelName) : undefined;
}
