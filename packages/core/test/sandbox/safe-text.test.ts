import { describe, expect, it, vi } from 'vitest';
import { LogLevel } from '../../src/protocol/codec.js';
import { resolveConfiguration } from '../../src/sandbox/config.js';
import { consoleLogger } from '../../src/sandbox/logging.js';
import { describeThrown, excerptName, neutraliseControls } from '../../src/sandbox/safe-text.js';

describe('describeThrown', () => {
  it.each([
    ['an Error', new RangeError('bad'), 'bad'],
    ['a string', 'plain', 'plain'],
    ['a number', 42, '42'],
    ['undefined', undefined, 'undefined'],
    ['Object.create(null)', Object.create(null), '<unprintable value>'],
    ['an object whose toString throws', { toString: () => { throw new Error('x'); } }, '<unprintable value>'],
    ['an Error whose message getter throws', Object.defineProperty(new Error(), 'message', { get: () => { throw new Error('x'); } }), '<unprintable value>'],
    ['an Error whose message is not a string', Object.defineProperty(new Error(), 'message', { value: 7 }), 'Error: 7'],
  ])('%s', (_, value, text) => {
    expect(describeThrown(value)).toBe(text);
  });
});

describe('excerptName', () => {
  it('keeps short names and cuts long ones, saying how long they were', () => {
    expect(excerptName('Add')).toBe('Add');
    expect(excerptName('x'.repeat(300))).toBe(`${'x'.repeat(256)}… (300 characters)`);
  });
});

describe('neutraliseControls', () => {
  it('shows escape sequences, carriage returns, DEL, C1 controls and bidi overrides as escapes; keeps tab and newline', () => {
    expect(neutraliseControls('\x1b[2J\x1b]0;title\x07a\tb\nc\rd\b\x7f\x9b\u202eevil\u2066')).toBe(
      '\\x1b[2J\\x1b]0;title\\x07a\tb\nc\\x0dd\\x08\\x7f\\x9b\\u202eevil\\u2066',
    );
    expect(neutraliseControls('héllo wörld ✓')).toBe('héllo wörld ✓');
  });
});

describe('the default print and the console logger', () => {
  it('neutralise terminal controls; a user print receives the exact text', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const error = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      resolveConfiguration().print('\x1b[31mred\n');
      expect(write).toHaveBeenCalledWith('\\x1b[31mred\n');
      consoleLogger({ level: LogLevel.Error, message: 'a\x1b[0m', target: 't\x07', sourceFile: '', line: 0 });
      expect(error).toHaveBeenCalledWith('[guest t\\x07] a\\x1b[0m');
    } finally {
      write.mockRestore();
      error.mockRestore();
    }
    const seen: string[] = [];
    resolveConfiguration({ print: (t) => seen.push(t) }).print('\x1b[31m');
    expect(seen).toEqual(['\x1b[31m']);
  });
});
