#!/usr/bin/env node
// Whether this machine's /dev/kvm is usable: it opens read-write and KVM_CREATE_VM works. The one
// check for both tools/test.mjs and .ci/run; run as a script it prints the answer and exits 0
// (usable) or 1 (not).
//
// Node has no ioctl, so the ioctls go through python3 (present on nearly every Linux, and .ci/run
// installs it). Without python3 only the open is checked, and the answer says so.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The device tools/test.mjs and .ci/run check. */
export const KVM_DEVICE_PATH = '/dev/kvm';

/**
 * Whether KVM works here, and why not.
 * @typedef {{ usable: boolean, detail: string }} KvmStatus
 */

// KVM_GET_API_VERSION is _IO(0xAE, 0x00) and KVM_CREATE_VM _IO(0xAE, 0x01)
// (Linux include/uapi/linux/kvm.h); the API version has been 12 since Linux 2.6.22.
const PROBE = `
import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CLOEXEC)
try:
    version = fcntl.ioctl(fd, 0xAE00)
except OSError as e:
    sys.exit(f"KVM_GET_API_VERSION failed ({errno.errorcode.get(e.errno, e.errno)}): not a KVM device")
if version != 12:
    sys.exit(f"KVM API version {version}, expected 12")
try:
    os.close(fcntl.ioctl(fd, 0xAE01, 0))
except OSError as e:
    sys.exit(f"KVM_CREATE_VM failed ({errno.errorcode.get(e.errno, e.errno)}: {e.strerror})")
print(f"KVM API {version}, KVM_CREATE_VM works")
`;

/**
 * Checks whether `devicePath` is a KVM device this process can use.
 * @param {string} [devicePath] the device; tests pass other files
 * @returns {KvmStatus} never throws: every failure becomes `usable: false` with the reason
 */
export function kvmStatus(devicePath = KVM_DEVICE_PATH) {
  if (process.platform !== 'linux') return { usable: false, detail: `KVM is Linux-only (this is ${process.platform})` };
  try {
    closeSync(openSync(devicePath, constants.O_RDWR | constants.O_CLOEXEC));
  } catch (error) {
    return { usable: false, detail: openFailure(devicePath, error) };
  }
  const probe = spawnSync('python3', ['-c', PROBE, devicePath], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error?.code === 'ENOENT') {
    return { usable: true, detail: `${devicePath} opens read-write (KVM_CREATE_VM not tried: python3 is not installed)` };
  }
  if (probe.status === 0) return { usable: true, detail: probe.stdout.trim() };
  const why = (probe.stderr || probe.error?.message || `python3 exited with status ${probe.status}`).trim().split('\n').at(-1);
  return { usable: false, detail: why };
}

function openFailure(devicePath, error) {
  switch (error.code) {
    case 'ENOENT':
      return `${devicePath} does not exist (KVM is not loaded, or this machine is a VM without nested virtualization)`;
    case 'EACCES':
    case 'EPERM':
      return `${devicePath} is not readable and writable by this user (${error.code}; join the group that owns it, usually kvm)`;
    default:
      return `cannot open ${devicePath} read-write (${error.code ?? error.message})`;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const status = kvmStatus();
  console.log(`${KVM_DEVICE_PATH}: ${status.usable ? 'usable' : 'NOT usable'}: ${status.detail}`);
  process.exitCode = status.usable ? 0 : 1;
}
