/** Shared set-up for tests that run cargo on the crates in test/fixtures. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/guest-rs */
export const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A test fixture crate. */
export const fixture = (name: string): string => join(packageDir, 'test', 'fixtures', name);

// One target directory for every fixture crate, so they share compiled
// dependencies (the runtime crate is compiled once, not once per fixture).
process.env['CARGO_TARGET_DIR'] = join(packageDir, 'target', 'test-guests');

/** Runs cargo synchronously in `cwd` with guest-like settings (panic=abort). */
export function cargo(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync('cargo', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CARGO_PROFILE_DEV_PANIC: 'abort', CARGO_PROFILE_RELEASE_PANIC: 'abort', ...env },
  });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
