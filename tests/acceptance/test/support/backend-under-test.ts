/**
 * The backend the acceptance suite runs against: the one discovery picks on
 * this machine (`HYPERLIGHT_BACKEND` honoured), loaded by name through its
 * package exactly as an application's sandboxes load it. Tests create
 * sandboxes without a `backend` option, so they all run on this one; on a
 * machine with MSHV or WHP the suite runs unchanged against that backend.
 *
 * Assertions about one backend's own handles or policies (KVM's fd names, the
 * CPUID table backend-kvm installs) go through {@link requireBackend}: they
 * skip, with the reason, only where another backend is under test. Under KVM
 * nothing skips (the VM run fails on any skip).
 */
import { checkHypervisor, discoverBackend, type Backend, type BackendName } from '@hyperlight-ts/core';

const availability = checkHypervisor();

/** Name of the backend under test; undefined when none is usable here. */
export const backendUnderTestName: BackendName | undefined = availability.backend;


/**
 * The backend under test, as discovery returns it.
 * @throws BackendUnavailableError when no backend is usable here.
 */
export function backendUnderTest(): Backend {
  return discoverBackend();
}

/**
 * Why tests of resident memory (untouched memory costs nothing, a sandbox
 * from a snapshot costs the pages it writes) hold for KVM only; for
 * {@link requireBackend}.
 */
export const LAZY_MEMORY = 'only KVM maps guest memory lazily: MSHV pins (faults in) every page it maps, WHP copies snapshots';

/** The `skip` of a vitest test context. */
type Skip = (condition: boolean, note?: string) => void;

/**
 * Skips the running test, saying why, unless one of `backends` is under test.
 * Call it first in a test: `it('...', ({ skip }) => { requireBackend(skip, ['kvm'], 'why'); ... })`.
 * @param reason - why the test holds only for those backends
 */
export function requireBackend(skip: Skip, backends: readonly BackendName[], reason: string): void {
  const name = backendUnderTestName;
  skip(name !== undefined && !backends.includes(name), `${name} is under test; ${reason}`);
}
