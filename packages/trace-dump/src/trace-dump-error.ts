import { HyperlightError } from '@hyperlight-ts/core';

/**
 * The CLI cannot do what was asked for a reason that is not the trace file
 * itself (those are `TraceFileError`s): the guest binary does not match the
 * trace, or an output cannot be written. The message is one line.
 */
export class TraceDumpError extends HyperlightError {
  override readonly name = 'TraceDumpError';
  readonly code = 'HL_ERR_TRACE_DUMP';
  /** @param detail - what went wrong and, when known, what to do */
  constructor(readonly detail: string, options?: ErrorOptions) {
    super(detail, options);
  }
}
