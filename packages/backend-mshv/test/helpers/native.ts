/**
 * The built addon, loaded directly (with its `testing` export), and what the
 * native tests measure: fds, mappings, disposed-object checks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
export { expectEveryMemberDisposed } from '../../../native-linux/test/helpers/disposed.js';
import { openAddon, type MshvAddon } from '../../src/load-native.js';
import type { MshvDevice, MshvPartition, MshvVp } from '../../src/mshv-ioctls.js';

/** The addon as it exports itself, beyond the surface load-native.ts uses. */
export interface TestedAddon extends MshvAddon {
  readonly MshvDevice: { readonly prototype: MshvDevice };
  readonly MshvPartition: { readonly prototype: MshvPartition };
  readonly MshvVp: { readonly prototype: MshvVp };
  /** Partitions and VPs over any fd (src/native/testing_exports.h). */
  readonly testing: {
    partitionOverFd(fd: number): MshvPartition;
    vpOverFd(fd: number, workerThread?: boolean): MshvVp;
  };
}

/** The addon of this package's build. */
export const addon = openAddon() as TestedAddon;

/** Open file descriptors of this (forked) test process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Mappings in /proc/self/maps whose line contains `name`. */
export function mappingCount(name: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes(name)).length;
}

/** A Node-style system error with `code`, naming `syscall`. */
export function systemError(code: string, syscall: string): unknown {
  return expect.objectContaining({ code, syscall, errno: expect.any(Number) });
}
