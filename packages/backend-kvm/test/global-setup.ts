import { backend } from '../src/index.js';

/** Runs once before all test files: say why hypervisor tests will be skipped. */
export default function setup(): void {
  const status = backend.check();
  if (!status.usable) {
    console.warn(`[backend-kvm] skipping *.kvm.test.ts: KVM is not usable here: ${status.reason}: ${status.detail}`);
  }
}
