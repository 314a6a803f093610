/**
 * @hyperlight-ts/guest-c: build C guests for hyperlight-ts.
 *
 * The C side (headers under `include/` and `libc/include/`, the library
 * `dist/lib/libhyperlight_guest.a`) is documented in the package README and
 * `include/hyperlight/guest.h`; this module builds guests from Node.
 */
export { buildCGuest, type BuildCGuestOptions } from './build-guest.js';
export { verifyStaticPie, type StaticPieInfo } from './elf-check.js';
export {
  compilerIncludeDir,
  defaultCompiler,
  FRAME_POINTER_FLAGS,
  guestCFlags,
  guestCPaths,
  guestLdFlags,
  guestLibraryBuilt,
  guestLibs,
  optimizeFlag,
  shellQuote,
  type GuestCFlagOptions,
  type GuestCPaths,
  type OptimizeLevel,
} from './flags.js';
export { GuestBuildError } from './guest-build-error.js';
