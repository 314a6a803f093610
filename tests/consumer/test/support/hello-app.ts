/**
 * The main consumer app, once per package manager: core, backend-kvm and
 * guest-rs from the tarballs, a guest built with the installed helper, and
 * hello-world programs in both module systems. The host part prepares and
 * checks it (./hello-app-suite.ts); hello.kvm.test.ts runs it.
 */
import type { PackageManager } from './app.js';

/** The app's name (directory and readiness marker) for `pm`. */
export const helloAppName = (pm: PackageManager): string => `hello-${pm}`;

/** The package managers the main app is installed with. */
export const PACKAGE_MANAGERS: readonly PackageManager[] = ['npm', 'pnpm'];

/** What the main app installs. */
export const HELLO_APP_DEPENDENCIES = {
  dependencies: ['@hyperlight-ts/core', '@hyperlight-ts/backend-kvm'],
  devDependencies: ['@hyperlight-ts/guest-rs'],
} as const;
