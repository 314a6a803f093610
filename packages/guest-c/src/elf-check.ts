/**
 * Checks that a linked guest is what the host loads, with the host's own ELF
 * loader (`parseElf` from `@hyperlight-ts/core`): x86-64 `ET_DYN`, no
 * `PT_INTERP`, no shared libraries, only `R_X86_64_RELATIVE` relocations.
 */
import { readFile } from 'node:fs/promises';
import { HyperlightError, parseElf } from '@hyperlight-ts/core';

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
 */
export async function verifyStaticPie(file: string): Promise<StaticPieInfo> {
  const bytes = await readFile(file);
  try {
    const image = parseElf(bytes);
    return {
      entry: BigInt(image.entryOffset) + image.vaddrBase,
      relativeRelocations: image.relocations.length,
      loadSegments: image.segments.length,
    };
  } catch (error) {
    if (error instanceof HyperlightError && error.code === 'HL_ERR_INVALID_GUEST_BINARY') {
      throw new GuestBuildError(`${file} is not a loadable guest: ${(error as { detail?: string }).detail ?? error.message}`, undefined, undefined, { cause: error });
    }
    throw error;
  }
}
