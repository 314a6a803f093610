/** Helpers for asserting on thrown errors. */
import { expect } from 'vitest';
import type { HyperlightError } from '@hyperlight-ts/core';

/**
 * Runs `fn` and returns what it threw.
 * @throws Error when `fn` returns normally.
 */
export function thrown<E = HyperlightError>(fn: () => unknown): E {
  try {
    fn();
  } catch (error) {
    return error as E;
  }
  throw new Error('expected the call to throw');
}

/** Runs `fn`, expects it to throw an instance of `type`, and returns the error typed. */
export function thrownAs<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  const error = thrown<unknown>(fn);
  expect(error).toBeInstanceOf(type);
  return error as E;
}
