/** The templates' one piece of syntax: `{{key}}`, replaced by a value. */
import { CreateGuestError } from './create-guest-error.js';

/** A placeholder: `{{` + a key of letters and digits + `}}`. */
export const PLACEHOLDER = /\{\{([A-Za-z][A-Za-z0-9]*)\}\}/g;

/**
 * Replaces every `{{key}}` in `text` with `values[key]`. Values are inserted
 * as they are (not scanned for placeholders again).
 *
 * @param text - a template
 * @param values - the placeholders' values
 * @param source - the template's name, for the error
 * @returns the text with every placeholder replaced
 * @throws {@link CreateGuestError} `bad-template` when `text` has a placeholder `values` lacks
 * @example
 * renderTemplate('name = "{{name}}"', { name: 'my-guest' }, 'Cargo.toml'); // 'name = "my-guest"'
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>, source: string): string {
  return text.replace(PLACEHOLDER, (_, key: string) => {
    const value = Object.hasOwn(values, key) ? values[key] : undefined;
    if (value === undefined) throw new CreateGuestError('bad-template', `template ${source} uses {{${key}}}, which has no value`);
    return value;
  });
}
