/**
 * Guest-supplied text made safe for one line of terminal or table output:
 * control characters become `\n`-style escapes and text longer than
 * `maxLength` characters is cut with `…`.
 * @example
 * printable('two\nlines'); // 'two\\nlines'
 */
export function printable(text: string, maxLength = Infinity): string {
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
  return escaped.length > maxLength ? `${escaped.slice(0, Math.max(0, maxLength - 1))}…` : escaped;
}
