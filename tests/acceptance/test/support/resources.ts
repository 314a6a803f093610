/**
 * File descriptors and mappings of this process, with the hypervisor's own
 * (device, VM, vCPU) counted by kind, for exact "nothing leaked" checks after
 * workers and sandboxes go away.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { handlesUncountable, hypervisorHandles } from './process.js';

/** File descriptors and mappings of this process, with the hypervisor's counted by kind. */
export interface Resources {
  fds: number;
  /** Open descriptors of the hypervisor device. */
  deviceFds: number;
  vmFds: number;
  vcpuFds: number;
  memfds: number;
  /** Mappings of guest memory. */
  memoryMappings: number;
  /** Mappings of a vCPU's shared run or register page. */
  vcpuMappings: number;
}

/**
 * What this process holds right now.
 * @throws Error where the backend's handles cannot be counted ({@link handlesUncountable}).
 */
export function resources(): Resources {
  const names = hypervisorHandles;
  if (!names) throw new Error(handlesUncountable);
  const fds = readdirSync('/proc/self/fd');
  const counts: Resources = { fds: fds.length, deviceFds: 0, vmFds: 0, vcpuFds: 0, memfds: 0, memoryMappings: 0, vcpuMappings: 0 };
  for (const fd of fds) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // readdirSync's own fd, closed by now
    }
    if (target === names.device) counts.deviceFds++;
    else if (target === names.vm) counts.vmFds++;
    else if (target.startsWith(names.vcpu)) counts.vcpuFds++;
    else if (target.startsWith('/memfd:hyperlight-guest-memory')) counts.memfds++;
  }
  for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
    if (line.includes('/memfd:hyperlight-guest-memory')) counts.memoryMappings++;
    else if (line.includes(names.vcpu)) counts.vcpuMappings++;
  }
  return counts;
}

/**
 * {@link resources}, or undefined where they cannot be counted
 * ({@link handlesUncountable}): for tests whose subject is something else
 * and that check for leaks on the side.
 */
export const resourcesWhereCountable = (): Resources | undefined => (handlesUncountable === undefined ? resources() : undefined);

/** `base` plus `sandboxes` live sandboxes held by `workers` workers. */
export function withSandboxes(base: Resources, sandboxes: number, workers: number): Omit<Resources, 'fds'> {
  return {
    deviceFds: base.deviceFds + (hypervisorHandles?.deviceStaysOpen ? workers : 0), // each worker loads its own backend
    vmFds: base.vmFds + sandboxes,
    vcpuFds: base.vcpuFds + sandboxes,
    memfds: base.memfds + sandboxes,
    memoryMappings: base.memoryMappings + sandboxes,
    vcpuMappings: base.vcpuMappings + sandboxes,
  };
}

/** The hypervisor's counts alone (the total fd count also moves with Node's own handles). */
export const hypervisorOnly = ({ fds: _, ...rest }: Resources): Omit<Resources, 'fds'> => rest;
