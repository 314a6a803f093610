// The disposed-object check every Linux addon's native classes pass; the
// backends' native tests import it from here by relative path.
import { expect } from 'vitest';

/**
 * Asserts that every method and accessor on `prototype` (except the
 * constructor and the disposers) throws ERR_HYPERLIGHT_DISPOSED naming
 * `${className}.${member}` when used on the disposed `object` — with no
 * arguments, so the disposed check must come before any argument check.
 * Returns the member names it checked.
 */
export function expectEveryMemberDisposed(object: object, prototype: object, className: string): string[] {
  const checked: string[] = [];
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor' || name === 'dispose') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)!;
    const target = object as Record<string, unknown>;
    const use = descriptor.get ? () => target[name] : () => (target[name] as () => unknown)();
    expect(use, `${className}.${name}`).toThrow(
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED', message: expect.stringContaining(`${className}.${name}`) }),
    );
    checked.push(name);
  }
  return checked;
}
