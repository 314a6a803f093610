/**
 * Whether this machine can run the hypervisor part, as tests/acceptance
 * decides it: a usable backend here, or else a skip with the reason, which
 * `HYPERLIGHT_REQUIRE_HYPERVISOR=1` (the nested-KVM VM run) turns into a failure.
 */
import { checkHypervisor } from '@hyperlight-ts/core';
import { describe } from 'vitest';

const availability = checkHypervisor();

/** Why no backend is usable here; undefined when one is. */
export const hypervisorMissing: string | undefined = availability.backend
  ? undefined
  : availability.candidates.map((c) => `${c.backend}: ${c.reason} (${c.detail})`).join('; ');

const required = process.env['HYPERLIGHT_REQUIRE_HYPERVISOR'] === '1';
if (hypervisorMissing && !required) console.warn(`skipping hypervisor tests: ${hypervisorMissing}`);

/** `describe` for tests that need a hypervisor; skipped (with the reason printed) when none is usable. */
export const describeHypervisor = (name: string, body: () => void): void => {
  if (hypervisorMissing && required) {
    describe(name, () => {
      throw new Error(`HYPERLIGHT_REQUIRE_HYPERVISOR=1 but no hypervisor is usable: ${hypervisorMissing}`);
    });
    return;
  }
  describe.skipIf(hypervisorMissing !== undefined)(name, body);
};

/** Whether the host test part should expect a usable KVM (else: `/dev/kvm` missing). */
export const kvmUsableHere: boolean = availability.backend === 'kvm';
