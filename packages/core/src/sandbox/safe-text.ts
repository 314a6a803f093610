/**
 * Turning values nobody vouches for into text that is safe to put in an
 * error message or on a terminal: whatever user code threw, names the guest
 * chose, text the guest printed.
 */

/** Longest guest-chosen name quoted in full in a message; longer ones are cut. */
export const MAX_QUOTED_NAME_LENGTH = 256;

/**
 * The message of something user code threw, without ever throwing: an Error's
 * `message`, else the value as a string; `'<unprintable value>'` when even
 * that fails (e.g. `Object.create(null)`, a throwing `toString` or `message`).
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) {
      const { message } = value;
      if (typeof message === 'string') return message;
    }
    return String(value);
  } catch {
    return '<unprintable value>';
  }
}

/** `name`, cut to {@link MAX_QUOTED_NAME_LENGTH} characters with a note of its full length. */
export function excerptName(name: string): string {
  return name.length <= MAX_QUOTED_NAME_LENGTH ? name : `${name.slice(0, MAX_QUOTED_NAME_LENGTH)}… (${name.length} characters)`;
}

/**
 * C0 controls other than tab and newline, DEL, C1 controls, and the Unicode
 * bidirectional overrides and isolates (which reorder what a terminal shows).
 */
const UNSAFE_ON_TERMINAL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * `text` with every character that could drive a terminal (escape sequences,
 * carriage returns, backspaces, bidi overrides) replaced by a visible escape
 * such as `\x1b` or `\u202e`; tabs and newlines are kept.
 * @example
 * neutraliseControls('\x1b[2Jhi\n'); // '\\x1b[2Jhi\n'
 */
export function neutraliseControls(text: string): string {
  return text.replace(UNSAFE_ON_TERMINAL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}
