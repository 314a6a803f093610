import { axisTicks, sizeUnit, timeUnit } from './axis-ticks.js';
import type { LiveBytesSeries } from './live-bytes-series.js';
import { svgText } from './svg-text.js';

const WIDTH = 1000;
const HEIGHT = 440;
const LEFT = 80;
const RIGHT = 30;
const TOP = 50;
const BOTTOM = 60;

/**
 * Renders live heap bytes over time as a standalone SVG document: a step
 * line with the area under it, x axis in a time unit and y axis in a size
 * unit with round ticks and grid lines, and (for short series) a marker per
 * change whose `<title>` says what changed.
 */
export function renderMemoryPlot(series: LiveBytesSeries, title: string): string {
  const points = series.points;
  const startNs = points[0]?.timeNs ?? 0;
  const lastNs = points.at(-1)?.timeNs ?? startNs;
  // A little room after the last change, so its level shows.
  const endNs = lastNs + Math.max(1, (lastNs - startNs) * 0.05);
  const peakBytes = Math.max(1, points.reduce((most, p) => Math.max(most, p.liveBytes), 0));
  const time = timeUnit(endNs - startNs);
  const size = sizeUnit(peakBytes);
  const xTicks = axisTicks(startNs / time.size, endNs / time.size, 8);
  const yTicks = axisTicks(0, peakBytes / size.size, 6);
  const yMax = Math.max(yTicks.at(-1)! * size.size, peakBytes);
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const x = (timeNs: number) => LEFT + ((timeNs - startNs) / (endNs - startNs)) * plotWidth;
  const y = (bytes: number) => TOP + plotHeight - (bytes / yMax) * plotHeight;
  const fmt = (n: number) => n.toFixed(2);

  // Steps: the heap is empty before the first change, and each value holds until the next change.
  let path = `M${fmt(x(startNs))},${fmt(y(0))}`;
  for (const p of points) path += ` H${fmt(x(p.timeNs))} V${fmt(y(p.liveBytes))}`;
  path += ` H${fmt(x(endNs))}`;
  const area = `${path} V${fmt(y(0))} Z`;

  const grid: string[] = [];
  for (const tick of xTicks) {
    const at = fmt(x(tick * time.size));
    grid.push(`<line x1="${at}" y1="${TOP}" x2="${at}" y2="${TOP + plotHeight}" stroke="#e4e4e4"/>`);
    grid.push(`<text x="${at}" y="${TOP + plotHeight + 18}" text-anchor="middle">${tick}</text>`);
  }
  for (const tick of yTicks) {
    const at = fmt(y(tick * size.size));
    grid.push(`<line x1="${LEFT}" y1="${at}" x2="${LEFT + plotWidth}" y2="${at}" stroke="#e4e4e4"/>`);
    grid.push(`<text x="${LEFT - 8}" y="${at}" dy="4" text-anchor="end">${tick}</text>`);
  }
  const markers = (series.notes ?? []).map((note, i) => {
    const p = points[i]!;
    return `<circle cx="${fmt(x(p.timeNs))}" cy="${fmt(y(p.liveBytes))}" r="3" fill="#1f5fa8"><title>${svgText(note)}</title></circle>`;
  });
  const subtitle = series.merged ? 'neighbouring changes merged, showing their maximum' : 'every allocation and free';
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" font-size="17" text-anchor="middle">${svgText(title)}</text>`,
    `<text x="${WIDTH / 2}" y="42" fill="#666" text-anchor="middle">${subtitle}</text>`,
    `<g class="grid" fill="#333">`,
    ...grid,
    `</g>`,
    `<path class="area" d="${area}" fill="#9cc3ea" fill-opacity="0.6"/>`,
    `<path class="live-bytes" d="${path}" fill="none" stroke="#1f5fa8" stroke-width="2"/>`,
    `<g class="markers">`,
    ...markers,
    `</g>`,
    `<g class="axes" stroke="#333"><line x1="${LEFT}" y1="${TOP + plotHeight}" x2="${LEFT + plotWidth}" y2="${TOP + plotHeight}"/><line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${TOP + plotHeight}"/></g>`,
    `<text x="${LEFT + plotWidth / 2}" y="${HEIGHT - 14}" text-anchor="middle">time since the trace started (${time.name})</text>`,
    `<text transform="translate(20 ${TOP + plotHeight / 2}) rotate(-90)" text-anchor="middle">live heap (${size.name})</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
