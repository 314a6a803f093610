/**
 * The package manager that ran `create-guest` (`npm create`, `pnpm create`,
 * `yarn create`, `bun create`, `npx`), read from `npm_config_user_agent`,
 * which each of them sets for the programs it runs. The project's README and
 * the next steps use its commands; `--install` runs its install.
 */

/** A package manager `create-guest` knows the commands of. */
export type PackageManagerName = 'npm' | 'pnpm' | 'yarn' | 'bun';

/** How a package manager installs and runs scripts. */
export interface PackageManager {
  /** Its executable. */
  readonly name: PackageManagerName;
  /** The install command, as argv (`['npm', 'install']`). */
  readonly installArgs: readonly string[];
  /** The command line that runs the project's `build` script. */
  readonly runBuild: string;
  /** The command line that runs the project's `start` script. */
  readonly runStart: string;
}

const MANAGERS: Readonly<Record<PackageManagerName, PackageManager>> = {
  npm: { name: 'npm', installArgs: ['npm', 'install'], runBuild: 'npm run build', runStart: 'npm start' },
  pnpm: { name: 'pnpm', installArgs: ['pnpm', 'install'], runBuild: 'pnpm build', runStart: 'pnpm start' },
  yarn: { name: 'yarn', installArgs: ['yarn', 'install'], runBuild: 'yarn build', runStart: 'yarn start' },
  bun: { name: 'bun', installArgs: ['bun', 'install'], runBuild: 'bun run build', runStart: 'bun start' },
};

/**
 * @param userAgent - `npm_config_user_agent`, e.g. `pnpm/10.34.9 npm/? node/v20.19.0 linux x64`
 * @returns the package manager it names; npm when it names none (or is unset)
 * @example
 * detectPackageManager(process.env['npm_config_user_agent']).runBuild; // 'pnpm build' under pnpm
 */
export function detectPackageManager(userAgent: string | undefined): PackageManager {
  const product = userAgent?.split(' ')[0]?.split('/')[0] ?? '';
  return Object.hasOwn(MANAGERS, product) ? MANAGERS[product as PackageManagerName] : MANAGERS.npm;
}
