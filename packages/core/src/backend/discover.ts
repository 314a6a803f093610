/**
 * Picks the hypervisor backend at run time. Core never imports a backend
 * statically: each lives in its own package, installed only where it can run.
 *
 * Order: an explicit choice (option, then `HYPERLIGHT_BACKEND`), else the
 * first candidate for this platform whose package loads and whose device is
 * usable. When none is, the error says why for every candidate.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Backend, BackendName, BackendStatus } from './backend.js';
import { BackendUnavailableError, ConfigurationError, type BackendCandidateFailure } from '../errors.js';
import { CORE_VERSION, versionMismatch } from './package-version.js';

/**
 * Every backend core can discover: the npm package that provides it and the
 * platforms (`process.platform`) auto-detection tries it on. Auto-detection
 * tries them in this order (Linux: KVM, then MSHV; Windows: WHP). This table
 * is the only place core names a backend's package; nothing else here knows
 * one backend from another.
 */
const BACKENDS: Readonly<Record<BackendName, { readonly packageName: string; readonly platforms: readonly string[] }>> = {
  kvm: { packageName: '@hyperlight-ts/backend-kvm', platforms: ['linux'] },
  mshv: { packageName: '@hyperlight-ts/backend-mshv', platforms: ['linux'] },
  whp: { packageName: '@hyperlight-ts/backend-whp', platforms: ['win32'] },
};

const BACKEND_NAMES = Object.keys(BACKENDS) as BackendName[];

/** npm package that provides each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = Object.fromEntries(
  BACKEND_NAMES.map((name) => [name, BACKENDS[name].packageName]),
) as Record<BackendName, string>;

/** Environment variable that selects a backend by name. */
export const BACKEND_ENV_VAR = 'HYPERLIGHT_BACKEND';

/** Candidates tried by auto-detection on `platform`, in order. */
const candidatesFor = (platform: string): BackendName[] => BACKEND_NAMES.filter((name) => BACKENDS[name].platforms.includes(platform));

/** Loads a backend package by name; throws like `require` when it cannot. */
export type PackageLoader = (packageName: string) => unknown;

/** Inputs of backend discovery; every field defaults to the real process. */
export interface DiscoveryOptions {
  /** Explicit choice; wins over the environment. */
  choice?: BackendName | Backend;
  env?: Readonly<Record<string, string | undefined>>;
  platform?: string;
  load?: PackageLoader;
}

/** What {@link checkHypervisor} found. */
export interface HypervisorAvailability {
  /** The backend that would be used, if any. */
  readonly backend: BackendName | undefined;
  /** Why each candidate tried before (or instead of) it is unusable. */
  readonly candidates: readonly BackendCandidateFailure[];
}

const isBackendName = (name: string): name is BackendName => Object.hasOwn(BACKENDS, name);

/**
 * Resolves a package from the application's point of view first (the current
 * directory and the main module), then from core's own location, so a backend
 * installed next to core is found under strict layouts such as pnpm's.
 */
function defaultLoader(packageName: string): unknown {
  const bases = [join(process.cwd(), 'noop.js'), process.argv[1], import.meta.url];
  let lastError: unknown;
  for (const base of bases) {
    if (base === undefined) continue;
    try {
      return createRequire(base)(packageName);
    } catch (error) {
      if (!isNotFound(error, packageName)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

function isNotFound(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string };
  return e.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${packageName}'`);
}

/** Asks `backend` whether it can run here; a check that breaks its "never throws" promise counts as a failed load. */
function statusOf(backend: Backend): BackendStatus {
  try {
    return backend.check();
  } catch (error) {
    return { usable: false, reason: 'load-failed', detail: `check() threw: ${(error as Error)?.message ?? String(error)}` };
  }
}

function tryCandidate(name: BackendName, load: PackageLoader): { backend: Backend } | { failure: BackendCandidateFailure } {
  const packageName = BACKENDS[name].packageName;
  let loaded: unknown;
  try {
    loaded = load(packageName);
  } catch (error) {
    if (isNotFound(error, packageName)) {
      const install = CORE_VERSION === undefined ? packageName : `${packageName}@${CORE_VERSION}`;
      return { failure: { backend: name, reason: 'not-installed', detail: `install ${install}` } };
    }
    return { failure: { backend: name, reason: 'load-failed', detail: (error as Error)?.message ?? String(error) } };
  }
  const backend = (loaded as { backend?: Backend } | undefined)?.backend;
  if (!backend || typeof backend.check !== 'function' || typeof backend.createVm !== 'function') {
    return { failure: { backend: name, reason: 'load-failed', detail: `${packageName} does not export a backend` } };
  }
  if (backend.name !== name) {
    return { failure: { backend: name, reason: 'load-failed', detail: `${packageName} exports the backend "${String(backend.name)}"` } };
  }
  const mismatch = versionMismatch(packageName, load, CORE_VERSION);
  if (mismatch !== undefined) return { failure: { backend: name, reason: 'load-failed', detail: mismatch } };
  const status = statusOf(backend);
  if (!status.usable) return { failure: { backend: name, reason: status.reason, detail: status.detail } };
  return { backend };
}

function explicitChoice(options: DiscoveryOptions): BackendName | Backend | undefined {
  if (options.choice !== undefined) return options.choice;
  const fromEnv = (options.env ?? process.env)[BACKEND_ENV_VAR];
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (!isBackendName(fromEnv)) {
    throw new ConfigurationError(BACKEND_ENV_VAR, `unknown backend "${fromEnv}" (known: ${BACKEND_NAMES.join(', ')})`);
  }
  return fromEnv;
}

function search(options: DiscoveryOptions): { backend?: Backend; candidates: BackendCandidateFailure[] } {
  const load = options.load ?? defaultLoader;
  const choice = explicitChoice(options);
  if (typeof choice === 'object') {
    const status = statusOf(choice);
    if (status.usable) return { backend: choice, candidates: [] };
    return { candidates: [{ backend: choice.name, reason: status.reason, detail: status.detail }] };
  }
  const platform = options.platform ?? process.platform;
  const names = choice ? [choice] : candidatesFor(platform);
  const candidates: BackendCandidateFailure[] = [];
  for (const name of names) {
    const result = tryCandidate(name, load);
    if ('backend' in result) return { backend: result.backend, candidates };
    candidates.push(result.failure);
  }
  if (names.length === 0) {
    for (const name of BACKEND_NAMES) {
      candidates.push({ backend: name, reason: 'unsupported-platform', detail: `no backend supports ${platform}` });
    }
  }
  return { candidates };
}

/**
 * Returns the backend to use. A backend found usable is remembered for later
 * calls with the same loader, platform and choice; {@link checkHypervisor}
 * always checks afresh.
 * @throws BackendUnavailableError listing why each candidate is unusable.
 * @throws ConfigurationError when `HYPERLIGHT_BACKEND` names no known backend.
 */
export function discoverBackend(options: DiscoveryOptions = {}): Backend {
  const choice = explicitChoice(options);
  if (typeof choice === 'object') return found(search(options));
  // Each sandbox discovers its backend; once one was usable, later creations reuse it
  // (a backend that stops working fails its createVm() with a typed error).
  const load = options.load ?? defaultLoader;
  const key = `${options.platform ?? process.platform}/${choice ?? ''}`;
  let byChoice = discovered.get(load);
  const cached = byChoice?.get(key);
  if (cached) return cached;
  const backend = found(search(options));
  if (!byChoice) discovered.set(load, (byChoice = new Map()));
  byChoice.set(key, backend);
  return backend;
}

/** Backends {@link discoverBackend} found usable, per loader and per platform and choice. */
const discovered = new WeakMap<PackageLoader, Map<string, Backend>>();

function found({ backend, candidates }: { backend?: Backend; candidates: BackendCandidateFailure[] }): Backend {
  if (!backend) throw new BackendUnavailableError(candidates);
  return backend;
}

/**
 * Reports which backend would be used and why the others are not. Never
 * throws for an unusable machine (only for an invalid `HYPERLIGHT_BACKEND`).
 * @throws ConfigurationError when `HYPERLIGHT_BACKEND` names no known backend.
 * @example
 * const { backend, candidates } = checkHypervisor();
 * if (!backend) console.log(candidates.map((c) => `${c.backend}: ${c.reason}`));
 */
export function checkHypervisor(options: DiscoveryOptions = {}): HypervisorAvailability {
  const { backend, candidates } = search(options);
  return { backend: backend?.name, candidates };
}

/**
 * Whether any hypervisor backend is usable here. Use {@link checkHypervisor}
 * to learn why not.
 * @throws ConfigurationError when `HYPERLIGHT_BACKEND` names no known backend.
 */
export function isHypervisorPresent(options: DiscoveryOptions = {}): boolean {
  return checkHypervisor(options).backend !== undefined;
}
