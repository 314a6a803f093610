/**
 * The built addon, loaded directly (with its `testing` export), and what the
 * native tests measure: fds, mappings, disposed-object checks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { defaultAddonPath, openAddon, type MshvAddon } from '../../src/load-native.js';
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
export const addon = openAddon(defaultAddonPath(), process.platform, process.arch) as TestedAddon;

/** Open file descriptors of this (forked) test process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Mappings in /proc/self/maps whose line contains `name`. */
export function mappingCount(name: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => line.includes(name)).length;
}

/**
 * Asserts that every method and accessor on `prototype` but the constructor
 * and the disposers throws ERR_HYPERLIGHT_DISPOSED naming `${className}.${member}`
 * on the disposed `object`, called with no arguments (so the disposed check
 * comes before any argument check). Returns the member names checked.
 */
export function expectEveryMemberDisposed(object: object, prototype: object, className: string): string[] {
  const checked: string[] = [];
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name === 'constructor' || name === 'dispose') continue;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)!;
    const target = object as Record<string, unknown>;
    const use = descriptor.get ? () => target[name] : () => (target[name] as () => unknown)();
    expect(use, `${className}.${name}`).toThrow(
      expect.objectContaining({ code: 'ERR_HYPERLIGHT_DISPOSED', message: expect.stringContaining(`${className}.${name}`) }),
    );
    checked.push(name);
  }
  return checked;
}

/** A Node-style system error with `code`, naming `syscall`. */
export function systemError(code: string, syscall: string): unknown {
  return expect.objectContaining({ code, syscall, errno: expect.any(Number) });
}
