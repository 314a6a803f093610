import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { LogLevel } from '../../src/protocol/codec.js';
import { formatLogRecord, logLevelName, parseLogLevel } from '../../src/sandbox/logging.js';

describe('log levels', () => {
  it('names every level and round-trips through parseLogLevel', () => {
    const names = [LogLevel.Trace, LogLevel.Debug, LogLevel.Info, LogLevel.Warn, LogLevel.Error, LogLevel.Critical, LogLevel.Off].map(logLevelName);
    expect(names).toEqual(['trace', 'debug', 'info', 'warn', 'error', 'critical', 'off']);
    names.forEach((name, level) => {
      expect(parseLogLevel(name, 'x')).toBe(level);
      expect(parseLogLevel(level, 'x')).toBe(level);
    });
    expect(parseLogLevel('Warn', 'x')).toBe(LogLevel.Warn);
  });

  it('rejects anything else, naming the option', () => {
    for (const bad of ['', 'fatal', 7, -1, 1.5, null, {}]) {
      expect(() => parseLogLevel(bad, 'maxLogLevel')).toThrow(ConfigurationError);
    }
    expect(() => parseLogLevel('fatal', 'maxLogLevel')).toThrow(/"maxLogLevel".*trace, debug, info, warn, error, critical, off, got fatal/);
  });
});

describe('formatLogRecord', () => {
  it('shows target, message and source location when present', () => {
    expect(formatLogRecord({ level: LogLevel.Info, message: 'ready', target: 'app', sourceFile: 'src/main.rs', line: 12 })).toBe('[guest app] ready (src/main.rs:12)');
    expect(formatLogRecord({ level: LogLevel.Info, message: 'bare', target: '', sourceFile: '', line: 0 })).toBe('[guest] bare');
    expect(formatLogRecord({ level: LogLevel.Info, message: 'no line', target: '', sourceFile: 'a.c', line: 0 })).toBe('[guest] no line (a.c)');
  });
});
