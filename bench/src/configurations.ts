/** The sandbox sizes the hypervisor suites measure, by name. */
import type { SandboxConfiguration } from '@hyperlight-ts/core';

const KIB = 1024;
const MIB = 1024 * KIB;

/** Names of {@link CONFIGURATIONS}. */
export type ConfigurationName = 'small' | 'default' | 'large';

/**
 * `small`: the smallest sizes the simpleguest runs with; `default`: core's
 * defaults; `large`: most of the default 256 MiB `maxMemorySize`, with 4 MiB
 * message buffers.
 */
export const CONFIGURATIONS: Readonly<Record<ConfigurationName, SandboxConfiguration>> = {
  small: { heapSize: 128 * KIB, stackSize: 64 * KIB, inputSize: 16 * KIB, outputSize: 16 * KIB, logSize: 4 * KIB },
  default: {},
  large: { heapSize: 192 * MIB, stackSize: 8 * MIB, inputSize: 4 * MIB, outputSize: 4 * MIB },
};

/** Sizes for calls that move 1 MiB each way: buffers and heap with room for the copies. */
export const MIB_CALL_CONFIGURATION: SandboxConfiguration = { heapSize: 8 * MIB, inputSize: 2 * MIB, outputSize: 2 * MIB };

/** A size in MiB for row names and notes. */
export function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(bytes < 10 * MIB ? 1 : 0)} MiB`;
}
