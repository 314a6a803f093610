/**
 * The guest languages a project can start with, and everything that differs
 * between them: the build package, the build script, where the source is.
 */

/** A guest language `create-guest --lang` accepts. */
export type GuestLanguage = 'rust' | 'c';

/** What a project in one guest language needs. */
export interface GuestLanguageInfo {
  /** The language's name in prose. */
  readonly displayName: string;
  /** The npm package with the guest runtime and the build helper (a devDependency of the project). */
  readonly guestPackage: string;
  /** The guest's main source file, relative to the project. */
  readonly guestSource: string;
  /** The project's `build` script: builds the guest into `dist/guest.elf`. */
  readonly buildScript: string;
  /** What must be installed besides Node, for the README. */
  readonly toolchain: string;
}

/** Every guest language, in the order `--help` lists them (the first is the default). */
export const GUEST_LANGUAGES: Readonly<Record<GuestLanguage, GuestLanguageInfo>> = {
  rust: {
    displayName: 'Rust',
    guestPackage: '@hyperlight-ts/guest-rs',
    guestSource: 'guest/src/main.rs',
    buildScript: 'hyperlight-build-rust-guest guest --out dist/guest.elf',
    toolchain: 'Stable Rust (`rustup`, target `x86_64-unknown-linux-gnu`, the default on x86-64 Linux) and a C toolchain for linking (`gcc`). No nightly, no crates.io.',
  },
  c: {
    displayName: 'C',
    guestPackage: '@hyperlight-ts/guest-c',
    guestSource: 'guest/main.c',
    buildScript: 'hyperlight-build-c-guest -std=c11 -Wall -Wextra -o dist/guest.elf guest/main.c',
    toolchain: 'gcc (the C library, musl, comes built in `@hyperlight-ts/guest-rs`).',
  },
};

/** The language used when `--lang` is not given. */
export const DEFAULT_GUEST_LANGUAGE: GuestLanguage = 'rust';

/**
 * @param value - a `--lang` value
 * @returns whether `value` names a guest language
 */
export function isGuestLanguage(value: string): value is GuestLanguage {
  return Object.hasOwn(GUEST_LANGUAGES, value);
}
