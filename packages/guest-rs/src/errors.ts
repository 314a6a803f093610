/** Why {@link buildRustGuest} failed; switch on `reason`, not on the message. */
export type RustGuestBuildFailure =
  /** `cargo` is not installed or not on `PATH`. */
  | 'cargo-not-found'
  /** The crate directory has no `Cargo.toml`, or no binary target to build. */
  | 'bad-crate'
  /** `cargo metadata` or `cargo rustc` failed (compile errors included); `output` has cargo's stderr. */
  | 'cargo-failed'
  /** The guest enables the runtime's `libc` feature but the C library (`libc.a`) is not built. */
  | 'libc-not-built'
  /** A C object or archive the guest links (`link`) does not exist. */
  | 'missing-link-input'
  /** cargo succeeded but reported no executable for the binary target. */
  | 'no-binary'
  /** The linked file is not a static-PIE x86-64 guest the host can load. */
  | 'not-static-pie';

/**
 * A Rust guest could not be built. The message says what failed and what to
 * do; `output` carries cargo's diagnostics when cargo failed.
 */
export class RustGuestBuildError extends Error {
  override readonly name = 'RustGuestBuildError';

  /**
   * @param reason - which step failed
   * @param summary - what failed, in one line (the message adds `output`)
   * @param output - cargo's stderr, when cargo ran
   */
  constructor(readonly reason: RustGuestBuildFailure, readonly summary: string, readonly output = '', options?: ErrorOptions) {
    super(output ? `${summary}\n${output}` : summary, options);
  }
}
