/** The generated project's package.json. */
import { GUEST_LANGUAGES, type GuestLanguage } from './guest-language.js';
import type { OwnPackage } from './own-package.js';

/** The hyperlight-ts packages the app itself imports (discovery loads the backend by name). */
const RUNTIME_PACKAGES = ['@hyperlight-ts/core', '@hyperlight-ts/backend-kvm'] as const;

/** What {@link projectManifest} needs. */
export interface ProjectManifestOptions {
  /** The project's npm package name. */
  readonly name: string;
  /** The guest language. */
  readonly language: GuestLanguage;
  /** This package's version and Node range ({@link ownPackage}). */
  readonly own: OwnPackage;
}

/**
 * The package.json of a new project: private, ESM, `build` and `start`
 * scripts, the runtime packages as dependencies and the language's guest
 * package as a devDependency (needed only to build the guest), all at
 * `^<this package's version>`.
 *
 * @param options - see {@link ProjectManifestOptions}
 * @returns the manifest, ready for `JSON.stringify`
 */
export function projectManifest(options: ProjectManifestOptions): Record<string, unknown> {
  const language = GUEST_LANGUAGES[options.language];
  const range = `^${options.own.version}`;
  return {
    name: options.name,
    version: '0.1.0',
    private: true,
    description: `A hyperlight-ts guest in ${language.displayName} and the Node.js app that runs it in a micro VM`,
    type: 'module',
    scripts: { build: language.buildScript, start: 'node index.mjs' },
    dependencies: Object.fromEntries(RUNTIME_PACKAGES.map((p) => [p, range])),
    devDependencies: { [language.guestPackage]: range },
    engines: { node: options.own.nodeRange },
  };
}
