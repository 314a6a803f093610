import { HyperlightError } from '@hyperlight-ts/core';

/**
 * Why a trace file cannot be read: it is missing or unreadable, cut short
 * (no trailer, or a partial last line), not a trace file at all, of a format
 * version this reader does not know, or has a line of the wrong shape.
 */
export type TraceFileErrorReason = 'missing' | 'truncated' | 'not-a-trace' | 'unsupported-version' | 'malformed';

/**
 * A trace file cannot be read. The message is one line:
 * `trace file <path>, line <n>: <detail>`.
 */
export class TraceFileError extends HyperlightError {
  override readonly name = 'TraceFileError';
  readonly code = 'HL_ERR_TRACE_FILE';
  /**
   * @param path - the file
   * @param reason - what kind of failure
   * @param detail - what exactly (newlines are folded into spaces)
   * @param line - the 1-based line number, when the failure is at a line
   */
  constructor(
    readonly path: string,
    readonly reason: TraceFileErrorReason,
    detail: string,
    readonly line?: number,
    options?: ErrorOptions,
  ) {
    super(`trace file ${path}${line === undefined ? '' : `, line ${line}`}: ${detail}`.replace(/\s*[\r\n]+\s*/g, ' '), options);
  }
}
