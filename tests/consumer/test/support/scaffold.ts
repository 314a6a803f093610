/**
 * The scaffold round trip from the tarballs: packed @hyperlight-ts/create-guest
 * writes a project, which installs from the tarballs, builds, and (under KVM)
 * starts. Shared by scaffold.test.ts (host) and scaffold.kvm.test.ts.
 */
import type { PackageManager } from './app.js';

/** A guest language create-guest supports. */
export type GuestLanguage = 'rust' | 'c';

/** The projects scaffolded: each language with one package manager. */
export const SCAFFOLDS: readonly { readonly lang: GuestLanguage; readonly pm: PackageManager }[] = [
  { lang: 'rust', pm: 'npm' },
  { lang: 'c', pm: 'pnpm' },
];

/** The app name (directory, readiness marker) of a scaffolded project. */
export const scaffoldAppName = (lang: GuestLanguage, pm: PackageManager): string => `scaffold-${lang}-${pm}`;

/** The guest package a generated project of `lang` develops with. */
export const guestPackageOf = (lang: GuestLanguage): string => (lang === 'rust' ? '@hyperlight-ts/guest-rs' : '@hyperlight-ts/guest-c');

/** The line the generated `start` script prints (the contract's scaffold layout). */
export const START_GREETING = 'Hello, Node.js!';
