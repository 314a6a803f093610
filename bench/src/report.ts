/** Results: rows of summarised samples, written as a Markdown table and as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Environment } from './environment.js';
import type { Summary } from './measure.js';

/** Units rows are reported in. */
export type Unit = 'µs' | 'KiB';

/** One measured case. */
export interface Row extends Summary {
  /** Which suite produced it, e.g. `snapshots`. */
  readonly suite: string;
  /** What was measured. */
  readonly name: string;
  readonly unit: Unit;
  /** The row this one is compared to (same suite), if any. */
  readonly relativeTo?: string;
  /** This row's median divided by the median of {@link relativeTo}. */
  readonly ratio?: number;
  /** Extra context, e.g. how many pages were private before a restore. */
  readonly note?: string;
}

/** A whole run. */
export interface Results {
  readonly name: string;
  readonly mode: 'quick' | 'full';
  readonly environment: Environment;
  /** Per suite: sentences printed above its table (configuration, how to read it). */
  readonly notes: Readonly<Record<string, readonly string[]>>;
  readonly rows: readonly Row[];
}

/** Collects rows as a suite produces them. */
export class Recorder {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];

  /** @param suite - the suite name rows are filed under */
  constructor(readonly suite: string) {}

  /** Adds a sentence shown above the suite's table. */
  note(text: string): void {
    this.notes.push(text);
    console.error(`  ${text}`);
  }

  /** Adds a row; `relativeTo` names an earlier row of this suite to compute the ratio against. */
  add(name: string, unit: Unit, summary: Summary, options: { relativeTo?: string; note?: string } = {}): Row {
    const reference = options.relativeTo === undefined ? undefined : this.rows.find((r) => r.name === options.relativeTo);
    if (options.relativeTo !== undefined && !reference) throw new Error(`no row "${options.relativeTo}" to compare "${name}" with`);
    const row: Row = {
      suite: this.suite,
      name,
      unit,
      ...summary,
      ...(reference ? { relativeTo: reference.name, ratio: summary.median / reference.median } : {}),
      ...(options.note ? { note: options.note } : {}),
    };
    this.rows.push(row);
    console.error(`  ${formatRow(row).join(' | ')}`);
    return row;
  }
}

/** A value with its unit; microseconds of 1000 and more are shown in milliseconds. */
function formatValue(value: number, unit: Unit): string {
  if (unit === 'KiB') return `${value.toFixed(0)} KiB`;
  if (value >= 100_000) return `${(value / 1000).toFixed(0)} ms`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} ms`;
  if (value < 1) return `${(value * 1000).toFixed(0)} ns`;
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} µs`;
}

function ratio(row: Row): string {
  if (row.ratio === undefined) return '';
  const r = row.ratio;
  const shown = r >= 10 ? r.toFixed(0) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);
  return `${shown}× ${row.relativeTo}`;
}

function formatRow(row: Row): string[] {
  const value = (v: number): string => formatValue(v, row.unit);
  return [row.name, String(row.n), value(row.min), value(row.median), value(row.p99), ratio(row), row.note ?? ''];
}

/** The run as Markdown: environment, then one table per suite. */
export function toMarkdown(results: Results): string {
  const env = results.environment;
  const lines = [
    results.name === results.mode ? `# Benchmark (${results.mode})` : `# Benchmark: ${results.name} (${results.mode})`,
    '',
    `- environment: ${env.description}`,
    `- CPU: ${env.cpuModel} (${env.cpuCount} CPU${env.cpuCount === 1 ? '' : 's'})${env.hostCpuModel ? `; host CPU: ${env.hostCpuModel}` : ''}`,
    ...(env.system ? [`- system: ${env.system}`] : []),
    `- Node ${env.node}, Linux ${env.kernel}${env.commit ? `, commit ${env.commit}` : ''}`,
    `- date: ${env.date}`,
  ];
  for (const suite of [...new Set(results.rows.map((r) => r.suite))]) {
    const notes = (results.notes[suite] ?? []).map((n) => `- ${n}`);
    lines.push('', `## ${suite}`, '', ...(notes.length > 0 ? [...notes, ''] : []), '| case | n | min | median | p99 | ratio (median) | note |', '|---|---:|---:|---:|---:|---|---|');
    for (const row of results.rows.filter((r) => r.suite === suite)) lines.push(`| ${formatRow(row).join(' | ')} |`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/<name>.md` and `<dir>/<name>.json`; returns their paths. */
export function writeResults(dir: string, results: Results): { markdown: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const markdown = join(dir, `${results.name}.md`);
  const json = join(dir, `${results.name}.json`);
  writeFileSync(markdown, toMarkdown(results));
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`);
  return { markdown, json };
}
