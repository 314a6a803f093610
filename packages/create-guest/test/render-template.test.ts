import { describe, expect, it } from 'vitest';

import { renderTemplate } from '../src/render-template.js';

describe('renderTemplate', () => {
  it('replaces every placeholder, as often as it occurs', () => {
    expect(renderTemplate('{{a}}-{{b}}-{{a}}', { a: 'x', b: 'y' }, 't')).toBe('x-y-x');
  });

  it('inserts values as they are, without rendering them again', () => {
    expect(renderTemplate('{{a}}', { a: '{{b}}', b: 'no' }, 't')).toBe('{{b}}');
  });

  it('leaves text that is not a placeholder alone', () => {
    const text = 'format!("{name}") ${x} {{ not one }} {{1x}}';
    expect(renderTemplate(text, {}, 't')).toBe(text);
  });

  it('refuses a placeholder without a value, naming it and the template', () => {
    expect(() => renderTemplate('{{name}} {{missing}}', { name: 'n' }, 'README.md')).toThrow(
      expect.objectContaining({ reason: 'bad-template', message: 'template README.md uses {{missing}}, which has no value' }),
    );
    expect(() => renderTemplate('{{toString}}', {}, 't')).toThrow(expect.objectContaining({ reason: 'bad-template' }));
  });
});
