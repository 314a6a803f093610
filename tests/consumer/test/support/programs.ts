/**
 * Programs a consumer writes, in both module systems: `.mjs` imports the
 * packages, `.cjs` requires them. Each prints one JSON line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_ELF, HOST_FUNCTION } from './guest.js';
import { runOk } from './process.js';

/** A module system of Node. */
export type ModuleKind = 'esm' | 'cjs';

/** The file extension that selects `kind` whatever the app's `type`. */
export const extensionOf = (kind: ModuleKind): string => (kind === 'esm' ? 'mjs' : 'cjs');

const importCore = (kind: ModuleKind, names: string): string =>
  kind === 'esm' ? `import { ${names} } from '@hyperlight-ts/core';` : `const { ${names} } = require('@hyperlight-ts/core');`;

/** Prints `checkHypervisor()`. */
const check = (kind: ModuleKind): string => `${importCore(kind, 'checkHypervisor')}
console.log(JSON.stringify(checkHypervisor()));
`;

/**
 * Runs hello world through the public API (run it in the app's directory): a
 * sandbox from the guest ELF, a host function, evolve, a call. Prints
 * `{ greeting }`, or `{ error: { name, code, message, unavailable } }` when the
 * library throws (`unavailable`: it is core's `BackendUnavailableError`).
 */
const hello = (kind: ModuleKind): string => `${importCore(kind, 'BackendUnavailableError, GuestBinary, UninitializedSandbox')}
try {
  const uninitialized = UninitializedSandbox.create(GuestBinary.fromFile('${GUEST_ELF}'));
  uninitialized.register('${HOST_FUNCTION}', { params: [], returns: 'string' }, () => '${kind === 'esm' ? 'an ES module' : 'a CommonJS module'}');
  const sandbox = uninitialized.evolve();
  try {
    console.log(JSON.stringify({ greeting: sandbox.call('Greet', 'string', 'Node.js') }));
  } finally {
    sandbox[Symbol.dispose]();
  }
} catch (error) {
  const unavailable = error instanceof BackendUnavailableError;
  console.log(JSON.stringify({ error: { name: error.name, code: error.code, message: error.message, unavailable } }));
}
`;

/** The programs, by base name. */
export const PROGRAMS = { check, hello } as const;

/** A program's file name. */
export const programFile = (name: keyof typeof PROGRAMS, kind: ModuleKind): string => `${name}.${extensionOf(kind)}`;

/** Writes every program, in both module systems, into the app in `dir`. */
export function writePrograms(dir: string): void {
  for (const [name, source] of Object.entries(PROGRAMS)) {
    for (const kind of ['esm', 'cjs'] as const) writeFileSync(join(dir, programFile(name as keyof typeof PROGRAMS, kind)), source(kind));
  }
}

/**
 * Runs program `name` of the app in `dir` with node (in `dir`) and parses the JSON line it printed.
 * @throws Error with its output when it fails or prints no JSON
 */
export function runProgram<T>(dir: string, name: keyof typeof PROGRAMS, kind: ModuleKind): T {
  const stdout = runOk(process.execPath, [programFile(name, kind)], dir);
  const line = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${programFile(name, kind)} in ${dir} printed no JSON:\n${stdout}`);
  }
}

/** What the `hello` program prints. */
export interface HelloOutput {
  readonly greeting?: string;
  readonly error?: { readonly name: string; readonly code: string; readonly message: string; readonly unavailable: boolean };
}

/** The greeting the guest returns to the `hello` program of `kind`. */
export const expectedGreeting = (kind: ModuleKind): string => `Hello, Node.js! Called from ${kind === 'esm' ? 'an ES module' : 'a CommonJS module'}.`;
