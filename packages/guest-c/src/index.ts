/**
 * @hyperlight-ts/guest-c: build C guests for hyperlight-ts.
 *
 * The C side (the headers under `include/`, the runtime and musl archives of
 * `@hyperlight-ts/guest-rs`) is documented in the package README and
 * `include/hyperlight/guest.h`; this module builds guests from Node. The
 * `hyperlight-cc` bin is the same logic as a compiler driver for Make,
 * configure scripts and CMake.
 */
export { buildCGuest, type BuildCGuestOptions } from './build-guest.js';
export {
  guestCompilerCommand,
  isLinkOption,
  splitCompilerArgs,
  type CompilerArg,
  type GuestCompilerCommand,
  type GuestCompilerCommandOptions,
} from './compiler-command.js';
export { verifyStaticPie, type StaticPieInfo } from './elf-check.js';
export {
  compilerIncludeDir,
  defaultCompiler,
  FRAME_POINTER_FLAGS,
  GUEST_TRAILING_CFLAGS,
  guestCFlags,
  guestCompileFlags,
  guestCPaths,
  guestLdFlags,
  guestLibs,
  LIBC_PART_LIBRARIES,
  optimizeFlag,
  requireGuestLibraries,
  shellQuote,
  type GuestCFlagOptions,
  type GuestCPaths,
  type OptimizeLevel,
} from './flags.js';
export { GuestBuildError } from './guest-build-error.js';
export { runGuestCompiler, type GuestCompilerRun, type RunGuestCompilerOptions } from './run-guest-compiler.js';
