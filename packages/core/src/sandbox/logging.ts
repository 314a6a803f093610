/**
 * Guest logging on the host side: level names, the logger a sandbox hands
 * records to, and a ready-made logger that writes to the console.
 *
 * Guests batch records in the log area (docs/abi.md, "Log area"); the host
 * drains them on every exit, so logging costs no exit per record.
 */
import { ConfigurationError } from '../errors.js';
import { LogLevel, type LogRecord } from '../protocol/codec.js';
import { neutraliseControls } from './safe-text.js';

/** Lower-case names of {@link LogLevel} values, least to most severe. */
export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical' | 'off';

const LEVEL_NAMES: readonly LogLevelName[] = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off'];

/**
 * Receives every guest log record at or above the sandbox's `maxLogLevel`,
 * oldest first, on the thread that called into the guest.
 */
export type GuestLogger = (record: LogRecord) => void;

/**
 * The lower-case name of a level, e.g. to index a logging library's methods.
 * @example
 * logger: (r) => pinoLogger[r.level === LogLevel.Critical ? 'fatal' : logLevelName(r.level)](r.message)
 */
export function logLevelName(level: LogLevel): LogLevelName {
  return LEVEL_NAMES[level] ?? 'critical';
}

/**
 * Reads a level given as a {@link LogLevel} number or a {@link LogLevelName}.
 * @throws ConfigurationError naming `option` for anything else.
 */
export function parseLogLevel(value: unknown, option: string): LogLevel {
  if (typeof value === 'string') {
    const index = LEVEL_NAMES.indexOf(value.toLowerCase() as LogLevelName);
    if (index >= 0) return index as LogLevel;
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= LogLevel.Trace && value <= LogLevel.Off) {
    return value as LogLevel;
  }
  throw new ConfigurationError(option, `expected a LogLevel (${LogLevel.Trace}-${LogLevel.Off}) or one of ${LEVEL_NAMES.join(', ')}, got ${String(value)}`);
}

/** One line describing a record: `[guest target] message (file:line)`. */
export function formatLogRecord(record: LogRecord): string {
  const target = record.target ? ` ${record.target}` : '';
  const source = record.sourceFile ? ` (${record.sourceFile}${record.line ? `:${record.line}` : ''})` : '';
  return `[guest${target}] ${record.message}${source}`;
}

/**
 * Writes records to the console: trace and debug to `console.debug`, info to
 * `console.info`, warn to `console.warn`, error and critical to `console.error`.
 * Terminal control characters from the guest (other than tab and newline) are
 * shown as escapes. The logger a sandbox uses when `maxLogLevel` is set without
 * a `logger`.
 */
export const consoleLogger: GuestLogger = (record) => {
  const line = neutraliseControls(formatLogRecord(record));
  if (record.level <= LogLevel.Debug) console.debug(line);
  else if (record.level === LogLevel.Info) console.info(line);
  else if (record.level === LogLevel.Warn) console.warn(line);
  else console.error(line);
};
