/**
 * The latency chart: median call latency against payload size, log-log, one
 * line per series (rows that carry `series` and `payloadBytes`), as a
 * self-contained SVG. Series measured under software emulation are dashed:
 * they are not comparable with native ones, only with each other.
 */
import type { Results, Row } from './report.js';

const WIDTH = 880;
const HEIGHT = 440;
const MARGIN = { left: 70, right: 330, top: 40, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** One line of the chart. */
interface Series {
  readonly label: string;
  /** Measured under software emulation (tools/kvm-vm): drawn dashed. */
  readonly emulated: boolean;
  readonly points: readonly { readonly bytes: number; readonly us: number }[];
}

const PART_LABELS = { native: 'natively', hypervisor: 'KVM' } as const;

/** Series of the run: rows with a series name and a payload, per part (a part's environment is in its label). */
export function chartSeries(results: Results): Series[] {
  const series = new Map<string, { bytes: number; us: number }[]>();
  const emulated = new Set<string>();
  for (const part of results.parts) {
    const underEmulation = part.kind === 'hypervisor' && part.environment.kind === 'kvm-vm';
    const where = underEmulation ? 'nested KVM, emulated' : PART_LABELS[part.kind];
    for (const row of part.rows.filter((r): r is Row & { series: string; payloadBytes: number } => r.series !== undefined && r.payloadBytes !== undefined)) {
      const label = `${row.series} (${where})`;
      if (underEmulation) emulated.add(label);
      series.set(label, [...(series.get(label) ?? []), { bytes: Math.max(1, row.payloadBytes), us: row.median }]);
    }
  }
  return [...series].map(([label, points]) => ({ label, emulated: emulated.has(label), points: points.sort((a, b) => a.bytes - b.bytes) }));
}

const escapeXml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function bytesLabel(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function usLabel(us: number): string {
  if (us >= 1000) return `${us / 1000} ms`;
  if (us < 1) return `${Math.round(us * 1000)} ns`;
  return `${us} µs`;
}

/**
 * The chart as SVG text.
 * @throws Error when no row carries a series and a payload.
 */
export function latencyChart(results: Results): string {
  const series = chartSeries(results);
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) throw new Error('no rows with a series and a payload to chart');
  const decade = (v: number, round: (x: number) => number): number => round(Math.log10(v));
  const x0 = 0;
  const x1 = decade(Math.max(...points.map((p) => p.bytes)), Math.ceil);
  const y0 = decade(Math.min(...points.map((p) => p.us)), Math.floor);
  const y1 = Math.max(y0 + 1, decade(Math.max(...points.map((p) => p.us)), Math.ceil));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (bytes: number): number => MARGIN.left + ((Math.log10(bytes) - x0) / (x1 - x0)) * plotW;
  const y = (us: number): number => MARGIN.top + plotH - ((Math.log10(us) - y0) / (y1 - y0)) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">Median call latency against payload (each way), log-log; ${escapeXml(results.mode)} run</text>`,
  ];
  for (let d = x0; d <= x1; d++) {
    const bytes = 10 ** d;
    out.push(`<line x1="${f(x(bytes))}" y1="${MARGIN.top}" x2="${f(x(bytes))}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`);
    out.push(`<text x="${f(x(bytes))}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(bytesLabel(bytes))}</text>`);
  }
  for (let d = y0; d <= y1; d++) {
    const us = 10 ** d;
    out.push(`<line x1="${MARGIN.left}" y1="${f(y(us))}" x2="${MARGIN.left + plotW}" y2="${f(y(us))}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${f(y(us) + 4)}" text-anchor="end">${escapeXml(usLabel(us))}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#444"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">payload in and out (bytes)</text>`);
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const path = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${f(x(p.bytes))},${f(y(p.us))}`).join(' ');
    const dash = s.emulated ? ' stroke-dasharray="6 4"' : '';
    out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    for (const p of s.points) out.push(`<circle cx="${f(x(p.bytes))}" cy="${f(y(p.us))}" r="3" fill="${colour}"/>`);
    const ly = MARGIN.top + 10 + i * 20;
    out.push(`<line x1="${MARGIN.left + plotW + 12}" y1="${ly}" x2="${MARGIN.left + plotW + 32}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${MARGIN.left + plotW + 38}" y="${ly + 4}">${escapeXml(s.label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
