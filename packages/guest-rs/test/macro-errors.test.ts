import { describe, expect, it } from 'vitest';

import { cargo, fixture } from './helpers.js';

describe('#[guest_function] / #[host_function] / #[guest_init] misuse', () => {
  it('gets one clear compile error per mistake, at the mistake', () => {
    const r = cargo(fixture('macro-errors'), ['check', '--offline', '--target', 'x86_64-unknown-linux-gnu', '--message-format=short']);
    expect(r.status).not.toBe(0);
    const expected: [number, RegExp][] = [
      [9, /guest function parameters are owned values: use `String` instead of `&str`/],
      [14, /`(\w+::)*Vec<i32>` cannot be a guest function parameter/],
      [19, /`Option<i32>` cannot be a guest function return type/],
      [24, /guest functions take at most 11 parameters; this one declares 12/],
      [28, /expected a string literal naming the function, like #\[guest_function\("Name"\)\]/],
      [31, /the function name must not be empty/],
      [35, /guest functions cannot be `async`/],
      [38, /guest functions cannot be generic/],
      [43, /parameters must be plain identifiers/],
      [48, /a host function is declared without a body: end the signature with `;`/],
      [53, /`(\w+::)*Vec<i32>` cannot be a host function parameter/],
      [56, /`Option<u8>` cannot be a host function return type/],
      [58, /#\[guest_init\] takes no arguments/],
      [62, /a #\[guest_init\] function takes no parameters/],
      [65, /a #\[guest_init\] function returns nothing; to fail initialisation, panic or call `abort`/],
      [70, /#\[guest_init\] functions cannot be `async`/],
    ];
    for (const [line, message] of expected) {
      const at = r.stderr.split('\n').find((l) => l.startsWith(`src/main.rs:${line}:`));
      expect(at, `an error on line ${line}`).toMatch(message);
    }
  });
});
