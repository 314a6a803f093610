import { describe, expect, it } from 'vitest';
import * as errors from '../src/errors.js';

const classes = (Object.values(errors) as unknown[]).filter(
  (v): v is new (...args: never[]) => errors.HyperlightError => typeof v === 'function' && v.prototype instanceof errors.HyperlightError,
);

describe('error classes', () => {
  it('every class has a literal name, a stable code listed in POISONS', () => {
    expect(classes.length).toBeGreaterThanOrEqual(21);
    const codes = new Set<string>();
    for (const Class of classes) {
      const instance = Object.create(Class.prototype) as errors.HyperlightError;
      // Fields are instance properties: construct with placeholder arguments.
      const args: unknown[] =
        Class === errors.BackendUnavailableError ? [[]]
        : Class === errors.PoisonedSandboxError ? [new errors.GuestPanicError('p')]
        : ['x', 1n, 2n, 3n];
      const made = new (Class as unknown as new (...a: unknown[]) => errors.HyperlightError)(...args);
      expect(made.name).toBe(Class.name);
      expect(made.code).toMatch(/^HL_ERR_[A-Z_]+$/);
      expect(made).toBeInstanceOf(Error);
      expect(instance).toBeInstanceOf(errors.HyperlightError);
      expect(errors.POISONS).toHaveProperty(made.code);
      codes.add(made.code);
    }
    expect(codes.size).toBe(classes.length);
    expect(Object.keys(errors.POISONS).sort()).toEqual([...codes].sort());
  });

  it('guest crashes poison; caller mistakes do not', () => {
    expect(errors.POISONS.HL_ERR_GUEST_EXCEPTION).toBe(true);
    expect(errors.POISONS.HL_ERR_GUEST_PANICKED).toBe(true);
    expect(errors.POISONS.HL_ERR_WRONG_ARGUMENT_TYPE).toBe(false);
    expect(errors.POISONS.HL_ERR_HOST_FUNCTION_FAILED).toBe(false);
  });

  it('messages carry the details', () => {
    expect(new errors.GuestExceptionError(14, 0x1000n, 7n, 0x2000n).message).toBe(
      'guest exception 14 (#PF page fault) at rip 0x1000, error code 0x7, address 0x2000',
    );
    expect(new errors.GuestAbortedError(3, 'bye').message).toBe('guest aborted (code 3): bye');
    const poison = new errors.GuestPanicError('oops');
    expect(new errors.PoisonedSandboxError(poison).cause).toBe(poison);
  });
});
