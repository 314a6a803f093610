import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PNG } from 'pngjs';

/** Debian's Chromium, which CI installs (.ci/run). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Why Chromium tests are skipped here, or undefined when they run: only when
 * Chromium is missing outside CI (in CI a missing Chromium fails the tests).
 */
export const chromiumSkipReason: string | undefined =
  !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is not installed (apt-get install chromium); CI runs these tests` : undefined;

/** What a screenshot shows, roughly. */
export interface ScreenshotStats {
  readonly width: number;
  readonly height: number;
  /** Share of pixels that differ from the top-left (background) pixel. */
  readonly inkShare: number;
  /** Distinct colours (RGB, quantized to 5 bits per channel). */
  readonly colours: number;
}

/** Renders an SVG file in headless Chromium at `width`×`height` and measures the screenshot. */
export function screenshotSvg(svgPath: string, width: number, height: number): ScreenshotStats {
  const dir = mkdtempSync(join(tmpdir(), 'chromium-'));
  try {
    const png = join(dir, 'shot.png');
    const result = spawnSync(
      CHROMIUM,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${png}`,
        `--window-size=${width},${height}`, svgPath,
      ],
      { encoding: 'utf8', timeout: 90_000 },
    );
    if (!existsSync(png)) throw new Error(`chromium made no screenshot (status ${result.status}, ${result.error?.message ?? ''}): ${result.stderr.slice(-500)}`);
    const image = PNG.sync.read(readFileSync(png));
    const { data } = image;
    let ink = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) ink++;
      colours.add(((data[i]! >> 3) << 10) | ((data[i + 1]! >> 3) << 5) | (data[i + 2]! >> 3));
    }
    return { width: image.width, height: image.height, inkShare: ink / (image.width * image.height), colours: colours.size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
