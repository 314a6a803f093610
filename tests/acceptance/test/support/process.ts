/** What this process holds: resident memory, file descriptors, mappings (Linux /proc). */
import { readdirSync, readFileSync } from 'node:fs';
import type { BackendName } from '@hyperlight-ts/core';
import { backendUnderTestName } from './backend-under-test.js';

/** How one backend's handles appear in /proc/self/fd and /proc/self/maps. */
export interface HypervisorHandleNames {
  /** The device node. */
  readonly device: string;
  /**
   * Whether each loaded instance of the backend (one per thread that loads
   * it) keeps the device open (KVM's system fd), rather than only while it
   * creates a VM (MSHV).
   */
  readonly deviceStaysOpen: boolean;
  /** The fd link of one VM. */
  readonly vm: string;
  /** The fd link (and mapping) of one vCPU starts with this. */
  readonly vcpu: string;
}

/**
 * The handle names of the backends that run on Linux: KVM's anon inodes are
 * named in virt/kvm/kvm_main.c, MSHV's in drivers/hv/mshv_root_main.c
 * (`mshv_partition`, `mshv_vp`). WHP runs on Windows, which has no /proc.
 */
const HANDLE_NAMES: Partial<Record<BackendName, HypervisorHandleNames>> = {
  kvm: { device: '/dev/kvm', deviceStaysOpen: true, vm: 'anon_inode:kvm-vm', vcpu: 'anon_inode:kvm-vcpu:' },
  mshv: { device: '/dev/mshv', deviceStaysOpen: false, vm: 'anon_inode:mshv_partition', vcpu: 'anon_inode:mshv_vp' },
};

/** The handle names of the backend under test; undefined where its handles are not in /proc. */
export const hypervisorHandles: HypervisorHandleNames | undefined = HANDLE_NAMES[backendUnderTestName ?? 'kvm'];

/**
 * Why this process's handles and mappings cannot be counted here (the
 * backend under test does not run on Linux), or undefined when they can.
 * Tests that count them skip with this reason.
 */
export const handlesUncountable: string | undefined = hypervisorHandles
  ? undefined
  : `the ${backendUnderTestName} backend does not run on Linux: no /proc to count its handles in`;

/**
 * This process's proportional set size in bytes: resident memory with each
 * shared page divided among the mappings that share it. Unlike RSS it does
 * not count a snapshot page once per sandbox mapping it.
 */
export function pssBytes(): number {
  const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!match) throw new Error('no Pss line in /proc/self/smaps_rollup');
  return Number(match[1]) * 1024;
}

/** Open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Mappings of this process that sandboxes own: guest memory and snapshot
 * memfds (`memfd:hyperlight-*`), snapshot files (`*.hlsnap`) and the vCPUs'
 * shared pages (`anon_inode:kvm-vcpu*`, `anon_inode:mshv_vp`). The JavaScript
 * heap's own mappings come and go with garbage collection, so counting every
 * line would be noise.
 * @throws Error where the backend's handles cannot be counted ({@link handlesUncountable}).
 */
export function mappingCount(): number {
  const vcpu = hypervisorHandles?.vcpu;
  if (vcpu === undefined) throw new Error(handlesUncountable);
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes('memfd:hyperlight-') || line.includes('.hlsnap') || line.includes(vcpu)).length;
}
