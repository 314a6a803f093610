/**
 * Checks that a linked guest is what the host loads, with the host's own ELF
 * loader: x86-64 `ET_DYN`, no `PT_INTERP`, no shared libraries, only
 * `R_X86_64_RELATIVE` relocations, entry point `hyperlight_entry` (when the
 * symbol table is there). The checks are `@hyperlight-ts/guest-rs`'s
 * `checkStaticPie`, the same for C and Rust guests.
 */
import { readFile } from 'node:fs/promises';
import { parseElf } from '@hyperlight-ts/core';
import { checkStaticPie, RustGuestBuildError } from '@hyperlight-ts/guest-rs';

import { GuestBuildError } from './guest-build-error.js';

/** What {@link verifyStaticPie} found. */
export interface StaticPieInfo {
  /** Entry point (offset from the load address). */
  readonly entry: bigint;
  /** Number of `R_X86_64_RELATIVE` relocations. */
  readonly relativeRelocations: number;
  /** Number of `PT_LOAD` segments. */
  readonly loadSegments: number;
}

/**
 * Verifies a guest ELF.
 * @throws GuestBuildError naming the first violation
 * @example
 * ```ts
 * const { relativeRelocations } = await verifyStaticPie('build/guest.elf');
 * ```
 */
export async function verifyStaticPie(file: string): Promise<StaticPieInfo> {
  const bytes = await readFile(file);
  try {
    const checked = checkStaticPie(bytes);
    return { entry: checked.entryOffset, relativeRelocations: checked.relocationCount, loadSegments: parseElf(bytes).segments.length };
  } catch (error) {
    if (error instanceof RustGuestBuildError) {
      throw new GuestBuildError(`${file} is ${error.summary}`, undefined, undefined, { cause: error });
    }
    throw error;
  }
}
