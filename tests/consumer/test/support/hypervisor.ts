/**
 * Whether this machine can run the hypervisor part, as tests/acceptance
 * decides it: a usable backend here, or else a skip with the reason, which
 * `HYPERLIGHT_REQUIRE_HYPERVISOR=1` (the nested-KVM VM run) turns into a failure.
 */
import { checkHypervisor } from '@hyperlight-ts/core';

const availability = checkHypervisor();

export { describeHypervisor } from '@hyperlight-ts/test-support';

/** Whether the host test part should expect a usable KVM (else: `/dev/kvm` missing). */
export const kvmUsableHere: boolean = availability.backend === 'kvm';
