/**
 * Readiness markers: the host part records each app it prepared, the
 * `.kvm.test.ts` files (run in the nested-KVM VM, which has no network) read
 * them. A missing marker means the host part did not run or failed.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { READY_DIR } from './paths.js';

/** Where the host prepared one app. */
export interface Readiness {
  readonly dir: string;
}

const markerOf = (app: string): string => join(READY_DIR, `${app}.json`);

/** Forgets app `app` (before preparing it again). */
export function clearReady(app: string): void {
  rmSync(markerOf(app), { force: true });
}

/** Records that app `app` is ready in `dir`. */
export function markReady(app: string, readiness: Readiness): void {
  mkdirSync(READY_DIR, { recursive: true });
  writeFileSync(markerOf(app), `${JSON.stringify(readiness)}\n`);
}

/**
 * What the host prepared for app `app`.
 * @throws Error naming the command that prepares it when the host part did not
 */
export function readReady(app: string): Readiness {
  const marker = markerOf(app);
  if (!existsSync(marker)) {
    throw new Error(
      `the consumer app "${app}" was not prepared (no ${marker}): run \`pnpm --filter @hyperlight-ts/consumer-tests test\` on the host first ` +
        '(it installs from the registry, which the nested-KVM VM cannot reach)',
    );
  }
  const readiness = JSON.parse(readFileSync(marker, 'utf8')) as Readiness;
  if (!existsSync(readiness.dir)) throw new Error(`the consumer app "${app}" is gone from ${readiness.dir}: prepare it again on the host`);
  return readiness;
}
