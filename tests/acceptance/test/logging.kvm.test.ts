import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LogLevel, type LogRecord } from '@hyperlight-ts/core';
import { OUT_DIR } from '@hyperlight-ts/fixture-guests';
import { countingBackend } from './support/counting-backend.js';
import { forEachGuest, simpleSandbox, type GuestLanguage } from './support/guests.js';

/** Where each simpleguest's `Log` function logs from: its source file and the line of the log statement. */
function logSite(language: GuestLanguage): { file: RegExp; line: number } {
  const [source, statement, file] = language === 'rust'
    ? ['rust/simpleguest/src/main.rs', 'log!(target: "guest", level, "{message}");', /^simpleguest\/src\/main\.rs$/]
    : ['c/simpleguest/main.c', 'HL_LOG((hl_log_level)hl_arg_u32(call, 0), "%s", hl_arg_string(call, 1, NULL));', /(^|\/)simpleguest\/main\.c$/];
  const lines = readFileSync(join(OUT_DIR, '..', source), 'utf8').split('\n');
  return { file, line: lines.findIndex((l) => l.includes(statement)) + 1 };
}

forEachGuest('guest logging', (language) => {
  it('delivers every level with message, target and source location', () => {
    const records: LogRecord[] = [];
    using sandbox = simpleSandbox(language, { maxLogLevel: 'trace', logger: (r) => records.push(r) });
    for (let level = LogLevel.Trace; level <= LogLevel.Off; level++) sandbox.call('Log', 'void', level, `message at ${level} ✓`);
    const site = logSite(language);
    expect(site.line).toBeGreaterThan(0);
    expect(records.map((r) => [r.level, r.message, r.target, r.line])).toEqual(
      [0, 1, 2, 3, 4, 5].map((level) => [level, `message at ${level} ✓`, 'guest', site.line]),
    );
    for (const r of records) expect(r.sourceFile).toMatch(site.file);
  });

  it('drops records below maxLogLevel', () => {
    const levels: LogLevel[] = [];
    using sandbox = simpleSandbox(language, { maxLogLevel: LogLevel.Warn, logger: (r) => levels.push(r.level) });
    for (let level = LogLevel.Trace; level <= LogLevel.Off; level++) sandbox.call('Log', 'void', level, 'x');
    expect(levels).toEqual([LogLevel.Warn, LogLevel.Error, LogLevel.Critical]);
  });

  it('is quiet by default, and a logger without a level receives info and above', () => {
    using quiet = simpleSandbox(language);
    quiet.call('Log', 'void', LogLevel.Critical, 'nobody listens');
    const levels: LogLevel[] = [];
    using sandbox = simpleSandbox(language, { logger: (r) => levels.push(r.level) });
    for (let level = LogLevel.Trace; level <= LogLevel.Critical; level++) sandbox.call('Log', 'void', level, 'x');
    expect(levels).toEqual([LogLevel.Info, LogLevel.Warn, LogLevel.Error, LogLevel.Critical]);
  });

  it('batches records: 2000 records in one call take far fewer exits than records', () => {
    const messages: string[] = [];
    const { backend, runs } = countingBackend();
    using sandbox = simpleSandbox(language, { backend, logger: (r) => messages.push(r.message) });
    const before = runs();
    sandbox.call('LogRepeated', 'void', LogLevel.Info, 'record', 2000);
    expect(messages).toEqual(Array.from({ length: 2000 }, (_, i) => `record ${i}`));
    // Each record is well under 100 bytes and the log area holds 16 KiB: a flush per ~160 records.
    expect(runs() - before).toBeLessThan(50);
  });

  it('a throwing logger fails the call but not the sandbox', () => {
    using sandbox = simpleSandbox(language, {
      logger: () => {
        throw new Error('sink down');
      },
    });
    expect(() => sandbox.call('Log', 'void', LogLevel.Error, 'x')).toThrow(expect.objectContaining({ code: 'HL_ERR_HOST_CALLBACK_FAILED', callback: 'logger' }));
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
  });
});
