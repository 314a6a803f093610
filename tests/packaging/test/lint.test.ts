/**
 * publint and "are the types wrong" (attw) on every tarball, as published.
 * publint: no errors and no warnings (suggestions are printed, not failed).
 * attw: no problem in any resolution mode (node10, node16 from CommonJS,
 * node16 from ESM, bundler) for any entry point, so TypeScript users get the
 * right types whether they `import` or `require`.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';
import { WORK_DIR, packedPackages } from './support/paths.js';
import { readTarball } from './support/tarball.js';

const ATTW_PACKAGE = createRequire(import.meta.url).resolve('@arethetypeswrong/cli/package.json');
const ATTW = join(dirname(ATTW_PACKAGE), (JSON.parse(readFileSync(ATTW_PACKAGE, 'utf8')) as { bin: { attw: string } }).bin.attw);

interface AttwReport {
  analysis: {
    types: unknown;
    entrypoints?: Record<string, unknown>;
    problems?: { kind: string; entrypoint?: string; resolutionKind?: string }[];
  };
}

/**
 * Runs attw on `tarball` and returns its JSON report. The report goes to a
 * file: attw exits right after writing, which cuts output to a pipe short.
 */
function attw(tarball: string): AttwReport {
  const out = join(WORK_DIR, 'attw', `${basename(tarball)}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const fd = openSync(out, 'w');
  try {
    // --no-definitely-typed: judge the package alone, without asking the registry for @types.
    spawnSync(process.execPath, [ATTW, tarball, '--format', 'json', '--no-definitely-typed'], { stdio: ['ignore', fd, 'inherit'] });
  } finally {
    closeSync(fd);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as AttwReport;
}

describe.each(packedPackages())('$name', ({ name, tarball }) => {
  const manifest = JSON.parse(readTarball(tarball).find((e) => e.path === 'package.json')?.data.toString('utf8') ?? '{}') as Record<string, unknown>;

  it('passes publint', async () => {
    const bytes = await readFile(tarball);
    const { messages, pkg } = await publint({ pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }, level: 'suggestion' });
    const lines = messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`);
    for (const line of lines.filter((l) => l.startsWith('suggestion'))) console.info(`${name} publint ${line}`);
    expect(lines.filter((l) => !l.startsWith('suggestion'))).toEqual([]);
  });

  it('has types that resolve the same way TypeScript users will resolve them', () => {
    const report = attw(tarball);
    if (report.analysis.types === false) {
      // Only a command-line package may have no types: nothing in it can be imported.
      expect({ exports: manifest['exports'], main: manifest['main'], bin: typeof manifest['bin'] }).toEqual({ exports: undefined, main: undefined, bin: 'object' });
      return;
    }
    expect(Object.keys(report.analysis.entrypoints ?? {}).length).toBeGreaterThan(0);
    const problems = (report.analysis.problems ?? []).map((p) => `${p.kind} ${p.entrypoint ?? ''} (${p.resolutionKind ?? 'all'})`);
    expect(problems).toEqual([]);
  });
});
