// TypeScript users get the installed packages' types in both module systems:
// a consumer file type-checks with module resolution node16 as an ES module
// (.mts, the `import` condition) and as CommonJS (.cts, the `require`
// condition), under pnpm's strict layout, with the workspace's tsc.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './support/app.js';
import { PACKAGE_DIR } from './support/paths.js';
import { run } from './support/process.js';

/** Uses values and types of every installed package; the `@ts-expect-error` lines prove the types are not `any`. */
const CONSUMER = `import { BackendUnavailableError, checkHypervisor, GuestBinary, UninitializedSandbox, type HypervisorAvailability } from '@hyperlight-ts/core';
import type { Backend } from '@hyperlight-ts/core/backend';
import { backend } from '@hyperlight-ts/backend-kvm';
import { buildRustGuest } from '@hyperlight-ts/guest-rs';

const kvm: Backend = backend;
const availability: HypervisorAvailability = checkHypervisor();
export async function greet(crateDir: string): Promise<string> {
  const elf: string = await buildRustGuest({ crateDir });
  const u = UninitializedSandbox.create(GuestBinary.fromFile(elf), { backend: kvm });
  u.register('HostName', { params: [], returns: 'string' }, () => 'TypeScript');
  const sandbox = u.evolve();
  // @ts-expect-error a string-returning call is not a number
  const wrong: number = sandbox.call('Greet', 'string', 'Node.js');
  void wrong;
  return sandbox.call('Greet', 'string', 'Node.js');
}
export const unavailable = (e: unknown): boolean => e instanceof BackendUnavailableError && availability.backend === undefined;
// @ts-expect-error core has no such export
export { notExported } from '@hyperlight-ts/core';
`;

const TSCONFIG = {
  compilerOptions: {
    module: 'node16',
    moduleResolution: 'node16',
    target: 'es2022',
    lib: ['es2023', 'esnext.disposable'],
    types: ['node'],
    strict: true,
    noEmit: true,
    skipLibCheck: false,
  },
  files: ['consumer.mts', 'consumer.cts'],
};

describe('types of the installed packages (pnpm, module resolution node16)', () => {
  let dir = '';
  beforeAll(() => {
    dir = createApp('types-pnpm', 'pnpm', {
      dependencies: ['@hyperlight-ts/core', '@hyperlight-ts/backend-kvm'],
      devDependencies: ['@hyperlight-ts/guest-rs'],
      registry: { '@types/node': '20.19.43' },
    });
    writeFileSync(join(dir, 'consumer.mts'), CONSUMER);
    writeFileSync(join(dir, 'consumer.cts'), CONSUMER);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  });

  it('type-checks an ES module and a CommonJS consumer', () => {
    const tsc = join(PACKAGE_DIR, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
