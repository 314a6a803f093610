import { describe, expect, it } from 'vitest';
import { CORE_VERSION, versionMismatch, versionsCompatible } from '../../src/backend/package-version.js';
import type { PackageLoader } from '../../src/backend/discover.js';
import { readFileSync } from 'node:fs';

const corePackage = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const loaderWithVersion = (version: unknown): PackageLoader => (spec) => {
  if (spec !== '@hyperlight-ts/backend-kvm/package.json') throw new Error(`unexpected ${spec}`);
  return { version };
};

describe('versionsCompatible', () => {
  it('at 0.x needs the same minor; patch and prerelease differences are fine', () => {
    expect(versionsCompatible('0.2.0', '0.2.5')).toBe(true);
    expect(versionsCompatible('0.2.0-next.1', '0.2.0')).toBe(true);
    expect(versionsCompatible('0.2.0', '0.3.0')).toBe(false);
    expect(versionsCompatible('0.2.0', '1.2.0')).toBe(false);
  });

  it('from 1.0 on needs the same major', () => {
    expect(versionsCompatible('1.0.0', '1.9.3')).toBe(true);
    expect(versionsCompatible('2.0.0', '1.9.3')).toBe(false);
  });
});

describe('versionMismatch', () => {
  it('reads core\'s own version from its package.json', () => {
    expect(CORE_VERSION).toBe(corePackage.version);
  });

  it('explains an incompatible backend and names the version to install', () => {
    expect(versionMismatch('@hyperlight-ts/backend-kvm', loaderWithVersion('0.3.0'), '0.2.1')).toBe(
      '@hyperlight-ts/backend-kvm 0.3.0 does not match @hyperlight-ts/core 0.2.1: they are released together; ' +
        'install the same version of both (@hyperlight-ts/backend-kvm@0.2.1)',
    );
  });

  it('accepts a compatible backend, and says nothing when a version is unknown', () => {
    expect(versionMismatch('@hyperlight-ts/backend-kvm', loaderWithVersion('0.2.0'), '0.2.1')).toBeUndefined();
    expect(versionMismatch('@hyperlight-ts/backend-kvm', loaderWithVersion(42), '0.2.1')).toBeUndefined();
    expect(versionMismatch('@hyperlight-ts/backend-kvm', () => { throw new Error('no package.json'); }, '0.2.1')).toBeUndefined();
    expect(versionMismatch('@hyperlight-ts/backend-kvm', loaderWithVersion('9.0.0'), undefined)).toBeUndefined();
  });
});
