/**
 * Project names: the generated package.json's `name` must be a name npm
 * accepts for a new package, and the Rust guest's crate name is derived from it.
 */
import { builtinModules } from 'node:module';

const MAX_NAME_LENGTH = 214;
const NAME_PART = /^[a-z0-9][a-z0-9._~-]*$/;

/**
 * @param name - a proposed npm package name (`my-guest`, `@me/my-guest`)
 * @returns why npm would refuse it as a new package's name, or `undefined` when it is valid
 */
export function packageNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (name.length > MAX_NAME_LENGTH) return `it is longer than ${MAX_NAME_LENGTH} characters`;
  const match = /^(?:@([^/]*)\/)?([^/@]*)$/.exec(name);
  if (!match) return 'it must be <name> or @<scope>/<name>';
  const [, scope, bare = ''] = match;
  for (const part of scope === undefined ? [bare] : [scope, bare]) {
    if (!NAME_PART.test(part)) {
      return `"${part}" must start with a lowercase letter or digit and contain only lowercase letters, digits, "-", ".", "_" and "~"`;
    }
  }
  if (scope === undefined && (builtinModules.includes(name) || name === 'node_modules' || name === 'favicon.ico')) {
    return `"${name}" is reserved`;
  }
  return undefined;
}

/**
 * Names a guest crate cannot take: Rust keywords, the standard crates and the
 * guest runtime's own crates (compared with `_` and `-` alike, as rustc does).
 */
const RESERVED_CRATE_NAMES = new Set([
  'abstract', 'as', 'async', 'await', 'become', 'box', 'break', 'const', 'continue', 'crate', 'do', 'dyn', 'else', 'enum',
  'extern', 'false', 'final', 'fn', 'for', 'gen', 'if', 'impl', 'in', 'let', 'loop', 'macro', 'match', 'mod', 'move', 'mut',
  'override', 'priv', 'pub', 'ref', 'return', 'self', 'static', 'struct', 'super', 'trait', 'true', 'try', 'type', 'typeof',
  'unsafe', 'unsized', 'use', 'virtual', 'where', 'while', 'yield',
  'alloc', 'core', 'proc-macro', 'std', 'test', 'hyperlight-guest', 'hyperlight-guest-macros',
]);

/**
 * The cargo package (and binary) name of a Rust guest for a project: the
 * unscoped package name with `.` and `~` turned into `-`, prefixed with
 * `guest-` when it would not start with a letter or is reserved.
 *
 * @param packageName - a valid npm package name
 * @returns a valid cargo package name
 * @example
 * crateName('@me/my.guest'); // 'my-guest'
 */
export function crateName(packageName: string): string {
  const bare = packageName.replace(/^@[^/]*\//, '').replace(/[.~]/g, '-');
  const reserved = RESERVED_CRATE_NAMES.has(bare.replace(/_/g, '-'));
  return /^[a-z]/.test(bare) && !reserved ? bare : `guest-${bare}`;
}
