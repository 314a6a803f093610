import { describe, expect, it } from 'vitest';

import { templateFiles } from '../src/template-files.js';

describe('templateFiles', () => {
  it('lists the common files, then the language\'s, with gitignore renamed', async () => {
    expect((await templateFiles('rust')).map((f) => f.target)).toEqual(['.gitignore', 'index.mjs', 'README.md', 'guest/Cargo.toml', 'guest/src/main.rs']);
    expect((await templateFiles('c')).map((f) => f.target)).toEqual(['.gitignore', 'index.mjs', 'README.md', 'guest/main.c']);
  });
});
