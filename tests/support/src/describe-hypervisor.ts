/**
 * Hypervisor-only test blocks. Where no backend is usable they skip and say
 * why; where `HYPERLIGHT_REQUIRE_HYPERVISOR=1` (a machine with `/dev/kvm`, or
 * the nested-KVM VM) that is a failure instead, so nothing skips silently.
 */
import { checkHypervisor } from '@hyperlight-ts/core';
import { describe } from 'vitest';

const availability = checkHypervisor();

/** Why no backend is usable here (each candidate with its reason), or undefined when one is. */
export const hypervisorMissing: string | undefined = availability.backend
  ? undefined
  : availability.candidates.map((c) => `${c.backend}: ${c.reason} (${c.detail})`).join('; ');

/** Whether a skip is a failure here. */
export const hypervisorRequired: boolean = process.env['HYPERLIGHT_REQUIRE_HYPERVISOR'] === '1';

if (hypervisorMissing !== undefined && !hypervisorRequired) console.warn(`skipping hypervisor tests: ${hypervisorMissing}`);

/**
 * A `describe` whose tests need a usable hypervisor: skipped, with the reason
 * printed, when there is none; failing when one is required.
 * @param name - the block's name
 * @param body - declares the tests
 */
export function describeHypervisor(name: string, body: () => void): void {
  if (hypervisorMissing !== undefined && hypervisorRequired) {
    describe(name, () => {
      throw new Error(`HYPERLIGHT_REQUIRE_HYPERVISOR=1 but no hypervisor is usable: ${hypervisorMissing}`);
    });
    return;
  }
  describe.skipIf(hypervisorMissing !== undefined)(name, body);
}
