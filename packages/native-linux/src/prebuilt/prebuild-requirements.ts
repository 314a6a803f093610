/**
 * What the prebuilt addons need from the system, as measured from the
 * binaries (each backend's test/prebuilds.test.ts checks its prebuilds against
 * these numbers; docs/installing.md lists them).
 */
export const PREBUILD_REQUIREMENTS = {
  /**
   * The oldest glibc the glibc build (linux-x64-gnu) runs on: every `GLIBC_`
   * symbol it needs exists at that version in this glibc (RHEL/Rocky/Alma 8,
   * Debian 10, Ubuntu 18.10), the oldest the official Node.js 20 builds run on.
   */
  glibc: '2.28',
  /** Highest `GLIBCXX_` version the musl build needs from libstdc++.so.6 (GCC 12's). */
  muslGlibcxx: '3.4.30',
  /** The GCC release whose libstdc++ first has {@link PREBUILD_REQUIREMENTS.muslGlibcxx}. */
  muslGcc: '12',
  /** Node-API version the addons are compiled for. */
  napiVersion: 8,
} as const;
