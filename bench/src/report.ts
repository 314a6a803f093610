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
  /** What was measured; unique within a run. */
  readonly name: string;
  readonly unit: Unit;
  /** The row this one is compared to (any suite recorded before it in the same part), if any. */
  readonly relativeTo?: string;
  /** How many of {@link relativeTo} this row is compared to (e.g. 2 for a call that makes two exits). Default 1. */
  readonly factor?: number;
  /** This row's median divided by `factor` times the median of {@link relativeTo}. */
  readonly ratio?: number;
  /** The largest {@link ratio} the project aims for. */
  readonly target?: number;
  /** The largest median the project aims for, in {@link unit}. */
  readonly maxMedian?: number;
  /** Extra context, e.g. how many pages were private before a restore. */
  readonly note?: string;
  /** For a call: the bytes it carried each way; rows with a {@link series} and a payload make the latency chart. */
  readonly payloadBytes?: number;
  /** The line of the latency chart this row belongs to, e.g. `hyperlight-ts, host side`. */
  readonly series?: string;
}

/** Options of {@link Recorder.add}. */
export interface AddOptions {
  /** Name of an earlier row to compare the median with. */
  readonly relativeTo?: string;
  /** Multiplier of the reference median (default 1). */
  readonly factor?: number;
  /** The ratio the project aims to stay under. */
  readonly target?: number;
  /** The median the project aims to stay under, in the row's unit. */
  readonly maxMedian?: number;
  readonly note?: string;
  /** See {@link Row.payloadBytes}. */
  readonly payloadBytes?: number;
  /** See {@link Row.series}. */
  readonly series?: string;
}

/** The rows measured in one environment: natively, or where a hypervisor was usable. */
export interface Part {
  /** `native`: no hypervisor involved; `hypervisor`: against KVM. */
  readonly kind: 'native' | 'hypervisor';
  readonly environment: Environment;
  /** Per suite: sentences printed above its table (configuration, how to read it). */
  readonly notes: Readonly<Record<string, readonly string[]>>;
  readonly rows: readonly Row[];
}

/** A whole run. */
export interface Results {
  readonly name: string;
  readonly mode: 'quick' | 'full';
  readonly parts: readonly Part[];
}

/** Collects rows as a suite produces them. */
export class Recorder {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];

  /**
   * @param suite - the suite name rows are filed under
   * @param earlier - rows of suites recorded before, which `relativeTo` may name
   */
  constructor(
    readonly suite: string,
    private readonly earlier: readonly Row[] = [],
  ) {}

  /** Adds a sentence shown above the suite's table. */
  note(text: string): void {
    this.notes.push(text);
    console.error(`  ${text}`);
  }

  /** Adds a row; `options.relativeTo` names an earlier row (this suite's or an earlier suite's) to compute the ratio against. */
  add(name: string, unit: Unit, summary: Summary, options: AddOptions = {}): Row {
    const { relativeTo, factor = 1, target, maxMedian, note, payloadBytes, series } = options;
    const reference = relativeTo === undefined ? undefined : [...this.earlier, ...this.rows].find((r) => r.name === relativeTo);
    if (relativeTo !== undefined && !reference) throw new Error(`no row "${relativeTo}" to compare "${name}" with`);
    const row: Row = {
      suite: this.suite,
      name,
      unit,
      ...summary,
      ...(reference ? { relativeTo: reference.name, ratio: summary.median / (factor * reference.median) } : {}),
      ...(reference && factor !== 1 ? { factor } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(maxMedian !== undefined ? { maxMedian } : {}),
      ...(note ? { note } : {}),
      ...(payloadBytes !== undefined ? { payloadBytes } : {}),
      ...(series ? { series } : {}),
    };
    this.rows.push(row);
    console.error(`  ${formatRow(row).join(' | ')}`);
    return row;
  }
}

/** A value with its unit; microseconds of 1000 and more are shown in milliseconds. */
export function formatValue(value: number, unit: Unit): string {
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
  const of = row.factor === undefined ? row.relativeTo : `${row.factor} × ${row.relativeTo}`;
  return `${shown}× ${of}`;
}

function target(row: Row): string {
  const verdict = (met: boolean): string => (met ? 'met' : 'NOT met');
  const targets: string[] = [];
  if (row.maxMedian !== undefined) targets.push(`≤ ${formatValue(row.maxMedian, row.unit)} ${verdict(row.median <= row.maxMedian)}`);
  if (row.target !== undefined && row.ratio !== undefined) targets.push(`≤ ${row.target}× ${verdict(row.ratio <= row.target)}`);
  return targets.join('; ');
}

function formatRow(row: Row): string[] {
  const value = (v: number): string => formatValue(v, row.unit);
  return [row.name, String(row.n), value(row.min), value(row.median), value(row.p99), ratio(row), target(row), row.note ?? ''];
}

function environmentLines(env: Environment): string[] {
  return [
    `- environment: ${env.description}`,
    `- CPU: ${env.cpuModel} (${env.cpuCount} CPU${env.cpuCount === 1 ? '' : 's'})${env.hostCpuModel ? `; host CPU: ${env.hostCpuModel}` : ''}`,
    ...(env.system ? [`- system: ${env.system}`] : []),
    `- Node ${env.node}, Linux ${env.kernel}${env.commit ? `, commit ${env.commit}` : ''}`,
    `- date: ${env.date}`,
  ];
}

const PART_TITLES = { native: 'Natively, no hypervisor', hypervisor: 'Against KVM' } as const;

/** The run as Markdown: per part its environment, then one table per suite. */
export function toMarkdown(results: Results): string {
  const lines = [results.name === results.mode ? `# Benchmark (${results.mode})` : `# Benchmark: ${results.name} (${results.mode})`];
  for (const part of results.parts) {
    lines.push('', `## ${PART_TITLES[part.kind]}`, '', ...environmentLines(part.environment));
    for (const suite of [...new Set(part.rows.map((r) => r.suite))]) {
      const notes = (part.notes[suite] ?? []).map((n) => `- ${n}`);
      lines.push('', `### ${suite}`, '', ...(notes.length > 0 ? [...notes, ''] : []));
      lines.push('| case | n | min | median | p99 | ratio (median) | target | note |', '|---|---:|---:|---:|---:|---|---|---|');
      for (const row of part.rows.filter((r) => r.suite === suite)) lines.push(`| ${formatRow(row).join(' | ')} |`);
    }
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
