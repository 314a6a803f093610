/** Why {@link CreateGuestError} was thrown; switch on `reason`, not on the message. */
export type CreateGuestFailure =
  /** The command line is wrong: an unknown option, a missing or extra argument, an unknown language. */
  | 'usage'
  /** The project name is not a valid npm package name. */
  | 'bad-name'
  /** The target directory exists and is not empty (or is a file). */
  | 'target-not-empty'
  /** A template has a placeholder nobody fills in (a bug in this package). */
  | 'bad-template'
  /** The package manager's install (`--install`) failed or could not start. */
  | 'install-failed';

/** Creating a guest project failed; the message says what to do instead. */
export class CreateGuestError extends Error {
  override readonly name = 'CreateGuestError';
  /** Stable machine-readable identifier. */
  readonly code = 'HL_ERR_CREATE_GUEST_FAILED';

  /**
   * @param reason - which check or step failed
   * @param message - what failed and what to do
   */
  constructor(readonly reason: CreateGuestFailure, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
