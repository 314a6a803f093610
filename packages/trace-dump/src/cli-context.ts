import type { Writable } from 'node:stream';

/** The options every command takes. */
export interface CommonOptions {
  /** The guest ELF the trace was recorded with, for symbol names. */
  readonly guest?: string;
  /** Symbolize with a binary whose SHA-256 differs from the trace's. */
  readonly ignoreHash?: boolean;
  /** Show progress on stderr even when it is not a terminal. */
  readonly progress?: boolean;
}

/** The streams a command writes to (the process's, or a test's). */
export interface CliStreams {
  readonly stdout: Writable;
  readonly stderr: Writable & { readonly isTTY?: boolean };
}
