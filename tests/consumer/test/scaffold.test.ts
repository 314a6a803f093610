// The scaffold round trip from the tarballs, host part: the packed
// create-guest (run the way users run it: `npm exec`, `pnpm dlx`) writes a
// project depending on the packages at ^<version>; pointed at the tarballs,
// it installs and builds with one command. scaffold.kvm.test.ts starts it.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { install, installFromTarballs, readManifest } from './support/app.js';
import { APPS_ROOT } from './support/paths.js';
import { runOk } from './support/process.js';
import { clearReady, markReady } from './support/ready.js';
import { guestPackageOf, SCAFFOLDS, scaffoldAppName } from './support/scaffold.js';
import { packedTarballs } from './support/tarballs.js';

const createGuest = packedTarballs()['@hyperlight-ts/create-guest'];
if (createGuest === undefined) throw new Error('@hyperlight-ts/create-guest was not packed');

for (const { lang, pm } of SCAFFOLDS) {
  const app = scaffoldAppName(lang, pm);

  describe(`a ${lang} project scaffolded by the packed create-guest, installed with ${pm}`, () => {
    const dir = join(APPS_ROOT, app);
    const version = JSON.parse(runOk('tar', ['-xzOf', createGuest, 'package/package.json'], APPS_ROOT)).version as string;
    beforeAll(() => {
      clearReady(app);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(APPS_ROOT, { recursive: true });
      const args = ['--lang', lang];
      if (pm === 'npm') runOk('npm', ['exec', '--yes', `--package=${createGuest}`, '--', 'create-guest', app, ...args], APPS_ROOT);
      else runOk('pnpm', ['--package', createGuest, 'dlx', 'create-guest', app, ...args], APPS_ROOT);
    });

    it('depends on core, backend-kvm and the guest package at ^<its version>, with build and start scripts', () => {
      const manifest = readManifest(dir) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string>; scripts?: Record<string, string> };
      expect(manifest.dependencies).toMatchObject({ '@hyperlight-ts/core': `^${version}`, '@hyperlight-ts/backend-kvm': `^${version}` });
      expect(manifest.devDependencies).toMatchObject({ [guestPackageOf(lang)]: `^${version}` });
      expect(Object.keys(manifest.scripts ?? {})).toEqual(expect.arrayContaining(['build', 'start']));
      expect(existsSync(join(dir, 'README.md'))).toBe(true);
    });

    it('installs from the tarballs and builds with one command', () => {
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify(installFromTarballs(readManifest(dir), pm), null, 2)}\n`);
      install(dir, pm);
      runOk(pm, ['run', 'build'], dir);
      markReady(app, { dir });
    });
  });
}
