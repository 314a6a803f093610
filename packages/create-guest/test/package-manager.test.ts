import { describe, expect, it } from 'vitest';

import { detectPackageManager } from '../src/package-manager.js';

describe('detectPackageManager', () => {
  it('reads the product from npm_config_user_agent', () => {
    expect(detectPackageManager('pnpm/10.34.9 npm/? node/v20.19.0 linux x64').name).toBe('pnpm');
    expect(detectPackageManager('npm/11.19.1 node/v20.19.0 linux x64 workspaces/false').name).toBe('npm');
    expect(detectPackageManager('yarn/1.22.22 npm/? node/v20.19.0 linux x64').name).toBe('yarn');
    expect(detectPackageManager('bun/1.2.0 npm/? node/v22.0.0 linux x64').name).toBe('bun');
  });

  it('falls back to npm when it is unset or unknown', () => {
    expect(detectPackageManager(undefined).name).toBe('npm');
    expect(detectPackageManager('').name).toBe('npm');
    expect(detectPackageManager('deno/2').name).toBe('npm');
  });

  it('knows each one\'s commands', () => {
    expect(detectPackageManager('npm/11')).toMatchObject({ installArgs: ['npm', 'install'], runBuild: 'npm run build', runStart: 'npm start' });
    expect(detectPackageManager('pnpm/10')).toMatchObject({ installArgs: ['pnpm', 'install'], runBuild: 'pnpm build', runStart: 'pnpm start' });
  });
});
