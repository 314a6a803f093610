/** Helpers that return what a call threw, for assertions on error fields. */

/**
 * Runs `fn` and returns what it threw.
 * @throws Error when `fn` returns normally.
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/**
 * Awaits `promise` and returns what it rejected with.
 * @throws Error when it resolves.
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
