import { describe, expect, test } from 'vitest';
import { DEFAULT_VM_IDLE_S, DEFAULT_VM_TIMEOUT_S, nextVmStep, parseOptions, planRun, VM_FAILED_STATUS } from './plan.mjs';

const USABLE = { usable: true, detail: 'KVM API 12, KVM_CREATE_VM works' };
const MISSING = { usable: false, detail: '/dev/kvm does not exist' };

describe('parseOptions', () => {
  test('defaults: the VM runs when needed, with the default limits, no lock, no summary file', () => {
    expect(parseOptions([], {})).toEqual({
      vm: 'auto', help: false, vmTimeoutMs: DEFAULT_VM_TIMEOUT_S * 1000, vmIdleMs: DEFAULT_VM_IDLE_S * 1000, lockPath: undefined, summaryFile: undefined,
    });
  });

  test('--no-vm and HYPERLIGHT_TEST_VM=0 turn the VM off; --vm-only runs only the VM', () => {
    expect(parseOptions(['--no-vm'], {}).vm).toBe('off');
    expect(parseOptions([], { HYPERLIGHT_TEST_VM: '0' }).vm).toBe('off');
    expect(parseOptions([], { HYPERLIGHT_TEST_VM: '1' }).vm).toBe('auto');
    expect(parseOptions(['--vm-only'], {}).vm).toBe('only');
    expect(parseOptions(['--', '--vm-only'], {}).vm).toBe('only');
  });

  test('reads the limits, the lock and the summary file from the environment', () => {
    const options = parseOptions([], { HYPERLIGHT_TEST_VM_TIMEOUT_S: '90', HYPERLIGHT_TEST_VM_IDLE_S: '1.5', HYPERLIGHT_KVM_VM_LOCK: '/x/lock', HYPERLIGHT_TEST_SUMMARY_FILE: 's.txt' });
    expect(options).toMatchObject({ vmTimeoutMs: 90_000, vmIdleMs: 1500, lockPath: '/x/lock', summaryFile: 's.txt' });
  });

  test('refuses unknown arguments, contradictions and bad limits', () => {
    expect(() => parseOptions(['--fast'], {})).toThrow(/unknown argument "--fast"/);
    expect(() => parseOptions(['--vm-only', '--no-vm'], {})).toThrow(/contradicts/);
    expect(() => parseOptions(['--vm-only'], { HYPERLIGHT_TEST_VM: '0' })).toThrow(/contradicts/);
    expect(() => parseOptions([], { HYPERLIGHT_TEST_VM_TIMEOUT_S: 'soon' })).toThrow(/HYPERLIGHT_TEST_VM_TIMEOUT_S must be a positive number/);
    expect(() => parseOptions([], { HYPERLIGHT_TEST_VM_IDLE_S: '0' })).toThrow(/HYPERLIGHT_TEST_VM_IDLE_S/);
  });
});

describe('planRun', () => {
  test('usable /dev/kvm: everything on the host, hypervisor required, no VM', () => {
    const plan = planRun({ vm: 'auto' }, USABLE);
    expect(plan).toMatchObject({ host: true, requireHypervisor: true, vm: 'not-needed' });
    expect(plan.notice).toMatch(/HYPERLIGHT_REQUIRE_HYPERVISOR=1/);
    // --no-vm changes nothing where no VM is needed.
    expect(planRun({ vm: 'off' }, USABLE)).toEqual(plan);
  });

  test('no usable /dev/kvm: host suites, then the VM, and the output says why', () => {
    const plan = planRun({ vm: 'auto' }, MISSING);
    expect(plan).toMatchObject({ host: true, requireHypervisor: false, vm: 'run' });
    expect(plan.notice).toMatch(/^no usable \/dev\/kvm \(\/dev\/kvm does not exist\): running the hypervisor suites in the nested-KVM VM \(tools\/kvm-vm\)/);
  });

  test('no usable /dev/kvm and the VM turned off: host only, and it says the hypervisor suites are skipped', () => {
    const plan = planRun({ vm: 'off' }, MISSING);
    expect(plan).toMatchObject({ host: true, requireHypervisor: false, vm: 'off' });
    expect(plan.notice).toMatch(/SKIPPED, not run/);
  });

  test('--vm-only: the VM alone, whatever /dev/kvm is', () => {
    for (const kvm of [USABLE, MISSING]) expect(planRun({ vm: 'only' }, kvm)).toMatchObject({ host: false, vm: 'run' });
  });
});

describe('nextVmStep', () => {
  const stall = { kind: 'stalled', reason: 'no output for 600 s' };

  test('an attempt that ran to the end is the verdict, passed or failed', () => {
    expect(nextVmStep([{ kind: 'exited', status: 0 }])).toEqual({ action: 'done', status: 0 });
    expect(nextVmStep([{ kind: 'exited', status: 1 }])).toEqual({ action: 'done', status: 1 });
    expect(nextVmStep([stall, { kind: 'exited', status: 0 }])).toEqual({ action: 'done', status: 0 });
  });

  test('a first stall is retried, a second is no verdict', () => {
    expect(nextVmStep([stall])).toMatchObject({ action: 'retry', message: expect.stringMatching(/stalled \(no output for 600 s\).*retrying once/) });
    expect(nextVmStep([stall, stall])).toMatchObject({ action: 'no-verdict', message: expect.stringMatching(/stalled 2 times/) });
  });

  test('a VM that cannot start is no verdict at once', () => {
    expect(nextVmStep([{ kind: 'exited', status: VM_FAILED_STATUS }])).toMatchObject({ action: 'no-verdict', message: expect.stringMatching(/could not start/) });
  });
});
