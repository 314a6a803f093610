import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's bin script (it imports the built dist). */
export const BIN = join(dirname(fileURLToPath(import.meta.url)), '../../bin/hyperlight-trace-dump.mjs');

/** What one run of the CLI did. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI in a child Node with `args`; stderr is not a terminal, so no progress unless asked. */
export function runCli(...args: string[]): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
