/**
 * `@hyperlight-ts/guest-rs`: build Rust guest crates into guest ELFs. The
 * Rust side (the `hyperlight-guest` runtime crate and its macros) ships in
 * this package's `crates/` directory; see the package README.
 */
export { buildRustGuest, cLinkArgs, FRAME_POINTERS_FLAG, guestCrateDir, GUEST_LINK_ARGS, GUEST_TARGET, RUNTIME_CRATE, withFramePointers } from './build-guest.js';
export type { BuildRustGuestOptions } from './build-guest.js';
export { checkStaticPie, GUEST_ENTRY_SYMBOL } from './elf-check.js';
export type { StaticPieInfo } from './elf-check.js';
export { RustGuestBuildError } from './errors.js';
export type { RustGuestBuildFailure } from './errors.js';
export { guestNativeLibraries, missingNativeLibraries } from './native-libraries.js';
export type { GuestNativeLibraries } from './native-libraries.js';
export { extractTarball, fetchPinnedSource, SourceFetchError, sourceCacheDir, type FetchPinnedSourceOptions, type PinnedSource, type SourceFetchFailure } from './fetch-source.js';
