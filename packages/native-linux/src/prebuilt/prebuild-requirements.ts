/**
 * What the prebuilt addons need from the system, as measured from the
 * binaries (test/prebuilt/prebuild-symbols.ts checks both backends' prebuilds
 * against these numbers; docs/installing.md lists them).
 */
export const PREBUILD_REQUIREMENTS = {
  /** Highest `GLIBC_` symbol version the glibc build (linux-x64-gnu) needs. */
  glibc: '2.34',
  /** Highest `GLIBCXX_` version the musl build needs from libstdc++.so.6 (GCC 12's). */
  muslGlibcxx: '3.4.30',
  /** The GCC release whose libstdc++ first has {@link PREBUILD_REQUIREMENTS.muslGlibcxx}. */
  muslGcc: '12',
  /** Node-API version the addons are compiled for. */
  napiVersion: 8,
} as const;
