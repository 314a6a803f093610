import { describe, expect, it } from 'vitest';

import { CreateGuestError } from '../src/create-guest-error.js';
import { parseCreateGuestArgs } from '../src/parse-args.js';

const CWD = '/home/me/work';

/** The error `parseCreateGuestArgs(argv)` throws. */
function failure(argv: string[]): CreateGuestError {
  try {
    parseCreateGuestArgs(argv, CWD);
  } catch (error) {
    if (error instanceof CreateGuestError) return error;
    throw error;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('parseCreateGuestArgs', () => {
  it('defaults to a Rust guest named after the directory, without installing', () => {
    expect(parseCreateGuestArgs(['my-guest'], CWD)).toEqual({ dir: '/home/me/work/my-guest', name: 'my-guest', language: 'rust', install: false });
  });

  it('takes --lang, --name and --install, before or after the directory', () => {
    expect(parseCreateGuestArgs(['--lang', 'c', 'sub/dir', '--name', '@me/greeter', '--install'], CWD)).toEqual({
      dir: '/home/me/work/sub/dir', name: '@me/greeter', language: 'c', install: true,
    });
    expect(parseCreateGuestArgs(['/abs/x', '--lang=rust'], CWD)).toMatchObject({ dir: '/abs/x', language: 'rust' });
  });

  it('answers --help and -h', () => {
    expect(parseCreateGuestArgs(['--help'], CWD)).toBe('help');
    expect(parseCreateGuestArgs(['x', '-h'], CWD)).toBe('help');
  });

  it('refuses a missing or second directory, unknown options and languages', () => {
    expect(failure([])).toMatchObject({ reason: 'usage', message: expect.stringContaining('create-guest <dir>') });
    expect(failure(['a', 'b'])).toMatchObject({ reason: 'usage', message: expect.stringContaining('a, b') });
    expect(failure(['a', '--force'])).toMatchObject({ reason: 'usage', message: expect.stringContaining('--force') });
    expect(failure(['a', '--lang', 'go'])).toMatchObject({ reason: 'usage', message: 'unknown language "go" (--lang takes rust or c)' });
    expect(failure(['a', '--lang'])).toMatchObject({ reason: 'usage' });
  });

  it('refuses an invalid name, suggesting --name when it came from the directory', () => {
    const fromDir = failure(['My Guest']);
    expect(fromDir.reason).toBe('bad-name');
    expect(fromDir.message).toMatch(/^"My Guest" is not a valid npm package name: .*; pass --name <npm-name>$/);
    const given = failure(['ok', '--name', 'fs']);
    expect(given).toMatchObject({ reason: 'bad-name', message: '"fs" is not a valid npm package name: "fs" is reserved' });
  });
});
