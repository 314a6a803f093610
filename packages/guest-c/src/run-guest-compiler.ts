/**
 * Runs a {@link GuestCompilerCommand} and, when it linked, checks that the
 * result is a loadable guest.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { resolve } from 'node:path';

import type { GuestCompilerCommand } from './compiler-command.js';
import { verifyStaticPie } from './elf-check.js';
import { realCompilerEnv } from './flags.js';
import { GuestBuildError } from './guest-build-error.js';

/** Options of {@link runGuestCompiler}. */
export interface RunGuestCompilerOptions {
  /**
   * Receives the compiler's output (stderr, then stdout: warnings and notes)
   * once it exited successfully, when there was any; after a failure the
   * output is only in {@link GuestCompilerRun.output}. Without `onOutput`
   * the compiler writes to this process's own stdout and stderr.
   */
  onOutput?: (text: string) => void;
}

/** How a compiler run ended. */
export interface GuestCompilerRun {
  /** The compiler's exit code (128 + the signal number when a signal ended it). */
  readonly exitCode: number;
  /** What the compiler wrote, when `onOutput` was given (else empty). */
  readonly output: string;
}

/**
 * Runs the real compiler. After a link that succeeded, verifies the linked
 * file with {@link verifyStaticPie} and deletes it when it is not a loadable
 * guest, so a build system does not take it for a good one.
 *
 * @throws GuestBuildError when the compiler cannot be started, or when the
 * linked file is not a loadable guest
 */
export async function runGuestCompiler(command: GuestCompilerCommand, options: RunGuestCompilerOptions = {}): Promise<GuestCompilerRun> {
  const { onOutput } = options;
  const child = spawn(command.cc, command.args, { stdio: onOutput ? ['inherit', 'pipe', 'pipe'] : 'inherit', env: realCompilerEnv() });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exitCode = await new Promise<number>((done, fail) => {
    child.on('error', (e) => fail(new GuestBuildError(`cannot run the C compiler "${command.cc}" (set HYPERLIGHT_CC or pass cc)`, [command.cc, ...command.args], String(e), { cause: e })));
    child.on('close', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  const output = Buffer.concat([...stderr, ...stdout]).toString('utf8');
  if (exitCode === 0 && output && onOutput) onOutput(output);
  if (exitCode === 0 && command.linkedFile !== undefined) {
    const file = resolve(command.linkedFile);
    try {
      await verifyStaticPie(file);
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
  }
  return { exitCode, output };
}
