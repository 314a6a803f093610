import { svgText } from './svg-text.js';

/** One frame of a flame graph: its own weight and its callees by name. */
export interface FlameFrame {
  readonly name: string;
  /** Weight of this frame and everything above it. */
  total: number;
  readonly children: Map<string, FlameFrame>;
}

/** Deepest stack kept; deeper frames are merged into the frame at this depth. */
export const MAX_FLAME_DEPTH = 256;

const WIDTH = 1200;
const MARGIN = 10;
const ROW_HEIGHT = 17;
const TITLE_HEIGHT = 44;
const FOOTER_HEIGHT = 24;
const FONT_SIZE = 11;
/** Width of one character of the monospace font at FONT_SIZE, about 0.6 em. */
const CHAR_WIDTH = 6.7;
/** Frames narrower than this are left out (they would not be visible). */
const MIN_FRAME_WIDTH = 0.3;

/**
 * Merges stacks (outermost frame first) with their weights into a tree of
 * frames under a root named `all`, the input of {@link renderFlameGraph}.
 */
export class FlameGraphBuilder {
  readonly root: FlameFrame = { name: 'all', total: 0, children: new Map() };

  /** Adds `weight` to every frame of `stack` (outermost first). */
  add(stack: readonly string[], weight: number): void {
    if (weight <= 0) return;
    let frame = this.root;
    frame.total += weight;
    for (const name of stack.slice(0, MAX_FLAME_DEPTH)) {
      let child = frame.children.get(name);
      if (!child) {
        child = { name, total: 0, children: new Map() };
        frame.children.set(name, child);
      }
      child.total += weight;
      frame = child;
    }
  }
}

/** What the graph shows. */
export interface FlameGraphStyle {
  readonly title: string;
  /** Describes a weight, e.g. as a duration or a size. */
  readonly formatWeight: (weight: number) => string;
  /** `warm` (reds, for time) or `cool` (blues and greens, for memory). */
  readonly palette: 'warm' | 'cool';
}

/**
 * Renders a flame graph as a standalone SVG document: the root at the
 * bottom, each frame as wide as its weight, callees above their caller in
 * name order. Each frame has a `<title>` tooltip (name, weight, share of the
 * total), a label cut to fit, and a colour derived from its name, so the
 * same function has the same colour in every graph.
 */
export function renderFlameGraph(root: FlameFrame, style: FlameGraphStyle): string {
  const scale = root.total > 0 ? (WIDTH - 2 * MARGIN) / root.total : 0;
  const placed: Placed[] = [];
  const pending: Placed[] = [{ frame: root, depth: 0, x: MARGIN, width: root.total * scale }];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (item.width < MIN_FRAME_WIDTH) continue;
    placed.push(item);
    let childX = item.x;
    for (const child of [...item.frame.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      pending.push({ frame: child, depth: item.depth + 1, x: childX, width: child.total * scale });
      childX += child.total * scale;
    }
  }
  const maxDepth = placed.reduce((deepest, p) => Math.max(deepest, p.depth), 0);
  const height = TITLE_HEIGHT + (maxDepth + 1) * ROW_HEIGHT + FOOTER_HEIGHT;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="${FONT_SIZE}">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#f8f8f4"/>`,
    `<text x="${WIDTH / 2}" y="26" font-size="17" text-anchor="middle">${svgText(style.title)}</text>`,
    `<g class="frames">`,
    // The root row is at the bottom.
    ...placed.map((p) => frameSvg(p, TITLE_HEIGHT + (maxDepth - p.depth) * ROW_HEIGHT, root.total, style)),
    `</g>`,
    `<text x="${MARGIN}" y="${height - 8}" fill="#555">total ${svgText(style.formatWeight(root.total))}; hover a frame for its name and weight</text>`,
    `</svg>`,
    '',
  ].join('\n');
}

interface Placed {
  readonly frame: FlameFrame;
  readonly depth: number;
  readonly x: number;
  readonly width: number;
}

function frameSvg({ frame, depth, x, width }: Placed, y: number, total: number, style: FlameGraphStyle): string {
  const share = total > 0 ? ((frame.total / total) * 100).toFixed(2) : '0';
  const tooltip = `${frame.name} — ${style.formatWeight(frame.total)} (${share}%)`;
  const fits = Math.floor((width - 6) / CHAR_WIDTH);
  const label = fits >= 3 ? (frame.name.length <= fits ? frame.name : `${frame.name.slice(0, fits - 2)}..`) : '';
  const text = label ? `<text x="${(x + 3).toFixed(2)}" y="${y + ROW_HEIGHT - 5}">${svgText(label)}</text>` : '';
  return (
    `<g class="frame" data-depth="${depth}"><title>${svgText(tooltip)}</title>` +
    `<rect x="${x.toFixed(2)}" y="${y}" width="${width.toFixed(2)}" height="${ROW_HEIGHT - 1}" rx="2" fill="${colour(frame.name, style.palette)}"/>${text}</g>`
  );
}

/** A colour from the name's FNV-1a hash: the same name always gets the same colour. */
function colour(name: string, palette: 'warm' | 'cool'): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const a = hash & 0xff;
  const b = (hash >>> 8) & 0xff;
  const c = (hash >>> 16) & 0xff;
  return palette === 'warm'
    ? `rgb(${205 + (a % 50)},${80 + (b % 130)},${30 + (c % 50)})`
    : `rgb(${40 + (a % 60)},${130 + (b % 80)},${150 + (c % 90)})`;
}
