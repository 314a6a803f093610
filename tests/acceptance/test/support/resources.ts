/**
 * File descriptors and mappings of this process, with KVM's counted by kind,
 * for exact "nothing leaked" checks after workers and sandboxes go away.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** File descriptors and mappings of this process, with KVM's counted by kind. */
export interface Resources {
  fds: number;
  devKvm: number;
  vmFds: number;
  vcpuFds: number;
  memfds: number;
  /** Mappings of guest memory. */
  memoryMappings: number;
  /** Mappings of a vCPU's kvm_run. */
  runMappings: number;
}

/** What this process holds right now. */
export function resources(): Resources {
  const fds = readdirSync('/proc/self/fd');
  const counts: Resources = { fds: fds.length, devKvm: 0, vmFds: 0, vcpuFds: 0, memfds: 0, memoryMappings: 0, runMappings: 0 };
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // readdirSync's own fd, closed by now
    }
    if (target === '/dev/kvm') counts.devKvm++;
    else if (target === 'anon_inode:kvm-vm') counts.vmFds++;
    else if (target.startsWith('anon_inode:kvm-vcpu:')) counts.vcpuFds++;
    else if (target.startsWith('/memfd:hyperlight-guest-memory')) counts.memfds++;
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    if (line.includes('/memfd:hyperlight-guest-memory')) counts.memoryMappings++;
    else if (line.includes('anon_inode:kvm-vcpu:')) counts.runMappings++;
  }
  return counts;
}

/** `base` plus `sandboxes` live sandboxes held by `workers` workers. */
export function withSandboxes(base: Resources, sandboxes: number, workers: number): Omit<Resources, 'fds'> {
  return {
    devKvm: base.devKvm + workers, // each worker's backend keeps /dev/kvm open
    vmFds: base.vmFds + sandboxes,
    vcpuFds: base.vcpuFds + sandboxes,
    memfds: base.memfds + sandboxes,
    memoryMappings: base.memoryMappings + sandboxes,
    runMappings: base.runMappings + sandboxes,
  };
}

/** The KVM counts alone (the total fd count also moves with Node's own handles). */
export const kvmOnly = ({ fds: _, ...rest }: Resources): Omit<Resources, 'fds'> => rest;
