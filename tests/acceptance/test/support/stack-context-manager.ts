/**
 * A synchronous OpenTelemetry context manager (the API's default one keeps
 * no context at all): enough for `context.with()` around a sync call, without
 * the async-hooks package.
 */
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

/** Keeps the active context on a stack while `with()` callbacks run. */
export class StackContextManager implements ContextManager {
  readonly #stack: Context[] = [];

  /** The innermost `with()`'s context, or the root one. */
  active(): Context {
    return this.#stack.at(-1) ?? ROOT_CONTEXT;
  }

  /** Runs `fn` with `context` active. */
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.#stack.push(context);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#stack.pop();
    }
  }

  /** Returns `target` unchanged: nothing here is asynchronous. */
  bind<T>(_context: Context, target: T): T {
    return target;
  }

  /** Nothing to set up. */
  enable(): this {
    return this;
  }

  /** Forgets every context. */
  disable(): this {
    this.#stack.length = 0;
    return this;
  }
}
