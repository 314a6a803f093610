/**
 * Checks that a built file is a guest the host can load, with the host's own
 * ELF loader (`parseElf` from `@hyperlight-ts/core`), plus one check only a
 * Rust guest build needs: the entry point is the runtime's `hyperlight_entry`
 * (verified when the symbol table is present).
 */
import { HyperlightError, parseElf, readElfSymbols } from '@hyperlight-ts/core';
import { RustGuestBuildError } from './errors.js';

/** The symbol `hyperlight-guest` exports as the ELF entry point. */
export const GUEST_ENTRY_SYMBOL = 'hyperlight_entry';

/** What {@link checkStaticPie} learned about a valid guest. */
export interface StaticPieInfo {
  /** `e_entry`: the entry point's offset from the load address. */
  readonly entryOffset: bigint;
  /** Number of `R_X86_64_RELATIVE` relocations the loader applies. */
  readonly relocationCount: number;
  /** Whether the symbol table confirmed the entry is {@link GUEST_ENTRY_SYMBOL} (false when stripped). */
  readonly entryVerified: boolean;
}

function fail(why: string, cause?: unknown): never {
  throw new RustGuestBuildError('not-static-pie', `not a static-PIE x86-64 guest: ${why}`, '', cause === undefined ? undefined : { cause });
}

/** Runs a core ELF routine, turning its `InvalidGuestBinaryError` into a build error. */
function host<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HyperlightError && error.code === 'HL_ERR_INVALID_GUEST_BINARY') fail((error as { detail?: string }).detail ?? error.message, error);
    throw error;
  }
}

/**
 * Validates `elf` as a loadable guest binary.
 *
 * @param elf - the whole file
 * @returns facts about the binary
 * @throws {@link RustGuestBuildError} with reason `not-static-pie`, saying what is wrong
 * @example
 * checkStaticPie(await readFile('guest.elf'));
 */
export function checkStaticPie(elf: Uint8Array): StaticPieInfo {
  const image = host(() => parseElf(elf));
  const entryOffset = BigInt(image.entryOffset) + image.vaddrBase;
  const symbols = host(() => readElfSymbols(elf));
  const entry = symbols.find((s) => s.name === GUEST_ENTRY_SYMBOL);
  if (symbols.length > 0 && entry === undefined) {
    fail(`it has no ${GUEST_ENTRY_SYMBOL} symbol; does the crate depend on hyperlight-guest and declare #![no_main]?`);
  }
  if (entry !== undefined && entry.value !== entryOffset) {
    fail(`the entry point 0x${entryOffset.toString(16)} is not ${GUEST_ENTRY_SYMBOL} (0x${entry.value.toString(16)}); link with -Wl,--entry=${GUEST_ENTRY_SYMBOL}`);
  }
  return { entryOffset, relocationCount: image.relocations.length, entryVerified: entry !== undefined };
}
