/** Compiling or linking a C guest failed, or the result is not a loadable guest. */
export class GuestBuildError extends Error {
  override readonly name = 'GuestBuildError';
  /** Stable machine-readable identifier. */
  readonly code = 'HL_ERR_GUEST_BUILD_FAILED';

  /**
   * @param message - what failed
   * @param command - the command line that failed, when one did
   * @param output - the tool's stderr/stdout, for the compiler's own diagnostics
   */
  constructor(
    message: string,
    readonly command?: readonly string[],
    readonly output?: string,
    options?: ErrorOptions,
  ) {
    super(output ? `${message}\n${output.trimEnd()}` : message, options);
  }
}
