/**
 * Hypervisor-only test blocks: they skip, saying why, where no backend is
 * usable, unless HYPERLIGHT_REQUIRE_HYPERVISOR=1 (the nested-KVM VM run), where
 * that is a failure.
 */
import { checkHypervisor } from '@hyperlight-ts/core';
import { describe } from 'vitest';

const availability = checkHypervisor();

/** Why no backend is usable here, or `undefined` when one is. */
export const hypervisorMissing: string | undefined = availability.backend
  ? undefined
  : availability.candidates.map((c) => `${c.backend}: ${c.reason} (${c.detail})`).join('; ');

/**
 * A `describe` that runs only with a usable hypervisor.
 *
 * @param name - the block's name
 * @param body - the tests
 */
export function describeHypervisor(name: string, body: () => void): void {
  if (hypervisorMissing !== undefined && process.env['HYPERLIGHT_REQUIRE_HYPERVISOR'] === '1') {
    describe(name, () => {
      throw new Error(`HYPERLIGHT_REQUIRE_HYPERVISOR=1 but no hypervisor is usable: ${hypervisorMissing}`);
    });
    return;
  }
  describe.skipIf(hypervisorMissing !== undefined)(`${name}${hypervisorMissing ? ` (skipped: no hypervisor: ${hypervisorMissing})` : ''}`, body);
}
