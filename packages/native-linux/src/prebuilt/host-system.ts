/**
 * The facts about this machine that decide which prebuilt addon to load.
 */
import { familySync, GLIBC, MUSL, versionSync } from 'detect-libc';

/** The C libraries a prebuild exists for, by the suffix of its directory (`linux-x64-<libc>`). */
export type PrebuildLibc = 'gnu' | 'musl';

/** What the loader needs to know about the system; every field replaceable in tests. */
export interface HostSystem {
  /** `process.platform`. */
  readonly platform: string;
  /** `process.arch`. */
  readonly arch: string;
  /** The C library detect-libc found, or null when it cannot tell. */
  readonly libcFamily: typeof GLIBC | typeof MUSL | null;
  /** Its version (e.g. `2.36`, `1.2.4`), or null when unknown. */
  readonly libcVersion: string | null;
}

/**
 * This process's platform and architecture, and (on Linux) its C library as
 * detect-libc reports it.
 * @example
 * currentHost(); // { platform: 'linux', arch: 'x64', libcFamily: 'glibc', libcVersion: '2.36' }
 */
export function currentHost(): HostSystem {
  const onLinux = process.platform === 'linux';
  const family = onLinux ? familySync() : null;
  return {
    platform: process.platform,
    arch: process.arch,
    libcFamily: family === GLIBC || family === MUSL ? family : null,
    libcVersion: onLinux ? versionSync() : null,
  };
}

/**
 * The prebuild variant for `host`: musl where detect-libc says musl, the glibc
 * build otherwise (also when it cannot tell: glibc is by far the more common).
 */
export function prebuildLibc(host: HostSystem): PrebuildLibc {
  return host.libcFamily === MUSL ? 'musl' : 'gnu';
}

/** `glibc 2.36`, `musl 1.2.4`, `musl (version unknown)`, or `an undetected C library`. */
export function describeLibc(host: HostSystem): string {
  if (host.libcFamily === null) return 'an undetected C library';
  return `${host.libcFamily} ${host.libcVersion ?? '(version unknown)'}`;
}
