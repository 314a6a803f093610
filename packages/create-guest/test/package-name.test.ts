import { describe, expect, it } from 'vitest';

import { crateName, packageNameProblem } from '../src/package-name.js';

describe('packageNameProblem', () => {
  it('accepts what npm accepts for a new package', () => {
    for (const name of ['my-guest', 'guest2', '2fast', 'a.b_c~d', '@me/my-guest', '@my-org/x']) expect(packageNameProblem(name), name).toBeUndefined();
  });

  it('says what is wrong with the rest', () => {
    expect(packageNameProblem('')).toBe('it is empty');
    expect(packageNameProblem('x'.repeat(215))).toBe('it is longer than 214 characters');
    expect(packageNameProblem('MyGuest')).toContain('"MyGuest" must start with a lowercase letter or digit');
    expect(packageNameProblem('.hidden')).toContain('must start with');
    expect(packageNameProblem('_private')).toContain('must start with');
    expect(packageNameProblem('my guest')).toContain('only lowercase letters');
    expect(packageNameProblem('a/b')).toBe('it must be <name> or @<scope>/<name>');
    expect(packageNameProblem('@/x')).toContain('""');
    expect(packageNameProblem('@me/')).toContain('""');
    expect(packageNameProblem('http')).toBe('"http" is reserved');
    expect(packageNameProblem('node_modules')).toBe('"node_modules" is reserved');
    expect(packageNameProblem('@me/http')).toBeUndefined();
  });
});

describe('crateName', () => {
  it('keeps a name cargo accepts, without the scope', () => {
    expect(crateName('my-guest')).toBe('my-guest');
    expect(crateName('@me/greeter_2')).toBe('greeter_2');
  });

  it('turns . and ~ into -', () => {
    expect(crateName('my.guest~x')).toBe('my-guest-x');
  });

  it('prefixes guest- to names that do not start with a letter or are taken', () => {
    expect(crateName('2fast')).toBe('guest-2fast');
    expect(crateName('core')).toBe('guest-core');
    expect(crateName('async')).toBe('guest-async');
    expect(crateName('hyperlight-guest')).toBe('guest-hyperlight-guest');
    expect(crateName('hyperlight_guest')).toBe('guest-hyperlight_guest');
  });
});
