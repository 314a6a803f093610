import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { kvmStatus } from './kvm-status.mjs';

const dir = mkdtempSync(join(tmpdir(), 'kvm-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a missing device is not usable, and the reason says so', () => {
  expect(kvmStatus(join(dir, 'kvm'))).toEqual({ usable: false, detail: expect.stringMatching(/kvm does not exist/) });
});

test('a device that opens but is not KVM is not usable: the ioctl is tried', () => {
  expect(kvmStatus('/dev/null')).toEqual({ usable: false, detail: expect.stringMatching(/KVM_GET_API_VERSION failed \(ENOTTY\)/) });
});
