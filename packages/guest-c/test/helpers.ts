/**
 * Shared by the build tests: where things are, running the bins, and the
 * readelf/objdump view of a built guest (tools the host loader does not share
 * code with, so they check verifyStaticPie too).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's root. */
export const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const REPO = resolve(PKG, '..', '..');
/** The guest compiler driver. */
export const HYPERLIGHT_CC = join(PKG, 'bin', 'hyperlight-cc');
/** The build CLI. */
export const BUILD_CLI = join(PKG, 'bin', 'hyperlight-build-c-guest.mjs');
/** The C simpleguest's source. */
export const SIMPLEGUEST_C = join(REPO, 'fixtures', 'guests', 'c', 'simpleguest', 'main.c');

/** @returns a fresh directory under the package's build/test-vitest/. */
export function scratchDir(name: string): string {
  const base = join(PKG, 'build', 'test-vitest');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${name}-`));
}

/** Runs a command to completion (never throws on a non-zero exit). */
export function run(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options, env: { ...process.env, ...options.env } });
}

/** Runs hyperlight-cc. */
export function cc(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): SpawnSyncReturns<string> {
  return run(HYPERLIGHT_CC, args, options);
}

/** Whether a tool can be run (in CI a missing tool throws: .ci/run installs them). */
export function have(tool: string): boolean {
  if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0) return true;
  // .ci/run installs every tool these tests use: in CI a missing one is a failure, not a skip.
  if (process.env['CI']) throw new Error(`${tool} is not installed; .ci/run should have installed it`);
  console.warn(`[guest-c tests] skipping the ${tool} tests: ${tool} is not installed`);
  return false;
}

/**
 * @returns what readelf says is wrong with a guest ELF (empty when nothing):
 * it must be ET_DYN without PT_INTERP or DT_NEEDED, with only
 * R_X86_64_RELATIVE relocations and the entry point at `hyperlight_entry`.
 */
export function readelfProblems(elf: string): string[] {
  const read = (flag: string): string => run('readelf', [flag, elf]).stdout;
  const header = read('-hW');
  const problems: string[] = [];
  if (!/Type:\s+DYN/.test(header)) problems.push('not ET_DYN');
  if (/INTERP/.test(read('-lW'))) problems.push('has PT_INTERP');
  if (/NEEDED/.test(read('-dW'))) problems.push('has DT_NEEDED');
  const relocs = read('-rW').split('\n').filter((l) => /^[0-9a-f]{8,}\s/.test(l));
  if (relocs.length === 0) problems.push('no relocations (expected R_X86_64_RELATIVE ones)');
  const other = relocs.filter((l) => !/R_X86_64_RELATIVE/.test(l));
  if (other.length > 0) problems.push(`non-RELATIVE relocations:\n${other.join('\n')}`);
  const entry = /Entry point address:\s+0x([0-9a-f]+)/.exec(header)?.[1];
  const symbol = / ([0-9a-f]{16}) +\d+ FUNC +GLOBAL +\S+ +\S+ hyperlight_entry$/m.exec(read('-sW'))?.[1];
  if (entry === undefined || symbol === undefined || BigInt(`0x${entry}`) !== BigInt(`0x${symbol}`)) problems.push(`entry 0x${entry} is not hyperlight_entry (0x${symbol})`);
  return problems;
}

/** @returns the `%fs:` accesses in a file's disassembly (guests have no thread pointer). */
export function fsAccesses(file: string): string[] {
  return run('objdump', ['-d', '--no-show-raw-insn', file]).stdout.split('\n').filter((l) => /%fs:/.test(l));
}
