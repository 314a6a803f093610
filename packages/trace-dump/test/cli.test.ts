import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Ajv } from 'ajv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { chromiumSkipReason, screenshotSvg } from './support/chromium.js';
import { runCli } from './support/run-cli.js';
import { GUEST_ELF, OTHER_ELF, returnAddresses, sha256Of, writeRealisticTrace } from './support/realistic-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'trace-dump-'));
const trace = join(dir, 'guest.trace.jsonl');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => writeRealisticTrace(trace));

/** Runs the CLI and expects success with nothing on stderr. */
function ok(...args: string[]): string {
  const result = runCli(...args);
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

/** Runs the CLI and expects exit code `status` with exactly one line on stderr. */
function fails(status: number, ...args: string[]): string {
  const result = runCli(...args);
  expect(result.status).toBe(status);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^hyperlight-trace-dump: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr;
}

const svgParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['g', 'text', 'circle', 'line', 'path'].includes(name) });

/** Parses an SVG document after checking it is well-formed. */
function parseSvg(text: string): Record<string, any> {
  expect(XMLValidator.validate(text)).toBe(true);
  const document = svgParser.parse(text) as { svg: Record<string, any> };
  expect(document.svg.xmlns).toBe('http://www.w3.org/2000/svg');
  return document.svg;
}

/** The flame graph's frames: each `<g class="frame">`'s tooltip and label. */
function flameFrames(svg: Record<string, any>): { title: string; label: string | undefined }[] {
  const frames = svg.g.find((g: any) => g.class === 'frames').g as any[];
  return frames.map((frame) => ({ title: String(frame.title), label: frame.text?.[0]?.['#text'] }));
}

describe('summary', () => {
  it('prints exact counts, drops, duration and the top tables', () => {
    expect(ok('summary', trace)).toBe(`trace        ${trace}
guest        sha256 ${sha256Of(GUEST_ELF)}, image base 0x200000, link base 0x0
clock        2400000000 Hz (hypervisor, invariant TSC)
recorded     2025-12-06T00:00:00.000Z by @hyperlight-ts/tracing test
duration     70 µs from first to last record, 50 µs in runs

runs         3 (1 init, 2 call, 1 failed)
spans        7 (1 unclosed)
events       3
allocations  4 (750 bytes), 3 frees (350 bytes)
heap         peak live 600 bytes (600 B), leaked at end 400 bytes in 1 blocks
dropped      malformed 1, oversized 0, unknown span 0, guest lost 2, limit 0

top spans by total time
span        target             count  total   self   mean
----------  -----------------  -----  -----  -----  -----
dispatch    hyperlight_guest       2  36 µs  13 µs  18 µs
handler     simpleguest            1  20 µs  10 µs  20 µs
format      simpleguest            1  10 µs  10 µs  10 µs
init        simpleguest            1   8 µs   5 µs   8 µs
setup_heap  simpleguest::init      1   3 µs   3 µs   3 µs
decode      hyperlight_guest       1   3 µs   3 µs   3 µs

top spans by self time
span        target             count  total   self   mean
----------  -----------------  -----  -----  -----  -----
dispatch    hyperlight_guest       2  36 µs  13 µs  18 µs
format      simpleguest            1  10 µs  10 µs  10 µs
handler     simpleguest            1  20 µs  10 µs  20 µs
init        simpleguest            1   8 µs   5 µs   8 µs
setup_heap  simpleguest::init      1   3 µs   3 µs   3 µs
decode      hyperlight_guest       1   3 µs   3 µs   3 µs

top events by count
event       target             count
----------  -----------------  -----
heap ready  simpleguest::init      1
echoing     simpleguest            1
slow call   hyperlight_guest       1
`);
  });

  it('--top limits the tables', () => {
    const text = ok('summary', trace, '--top', '1');
    expect(text).toMatch(/top spans by total time\n.*\n.*\ndispatch .*\n\ntop spans by self time/);
  });
});

describe('tree', () => {
  it('prints every run as an indented tree with durations and events', () => {
    expect(ok('tree', trace)).toBe(`run 1: init  10 µs  at 0 ns
  init  8 µs  at 1 µs
    setup_heap  3 µs  at 2 µs
      • info heap ready  at 3 µs  {size=65536}

run 2: call Echo  30 µs  at 20 µs
  dispatch  28 µs  at 21 µs
    decode  3 µs  at 22 µs
    handler  20 µs  at 26 µs  {function="Echo"}
      • debug echoing  at 27 µs  {len=5, text="hello"}
      format  10 µs  at 30 µs  {width=3}
  • warn slow call  at 47.5 µs

run 3: call Fail  10 µs  at 60 µs, error: guest panicked: boom
  dispatch  8 µs  at 61 µs  (unclosed)

`);
  });

  it('--run, --depth and --min-duration select what is shown', () => {
    expect(ok('tree', trace, '--run', '2', '--depth', '2')).toBe(`run 2: call Echo  30 µs  at 20 µs
  dispatch  28 µs  at 21 µs
    decode  3 µs  at 22 µs
    handler  20 µs  at 26 µs  {function="Echo"}
  • warn slow call  at 47.5 µs

`);
    expect(ok('tree', trace, '--run', '2', '--min-duration', '5')).toBe(`run 2: call Echo  30 µs  at 20 µs
  dispatch  28 µs  at 21 µs
    handler  20 µs  at 26 µs  {function="Echo"}
      • debug echoing  at 27 µs  {len=5, text="hello"}
      format  10 µs  at 30 µs  {width=3}
  • warn slow call  at 47.5 µs

`);
    expect(ok('tree', trace, '--run', '9')).toBe('');
  });
});

describe('perfetto', () => {
  const schema = JSON.parse(readFileSync(join(__dirname, 'trace-event.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(schema);
  interface TraceEvent { name: string; ph: string; ts: number; dur?: number; tid?: number; cat?: string; args?: Record<string, unknown> }

  it('writes valid trace-event JSON whose spans nest, in microseconds', () => {
    const out = join(dir, 'trace.json');
    expect(ok('perfetto', trace, '-o', out)).toBe('');
    const json = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: TraceEvent[] };
    expect(JSON.parse(ok('perfetto', trace))).toEqual(json);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    const events = json.traceEvents;
    expect(events.filter((e) => e.ph === 'M').map((e) => e.name)).toEqual(['process_name', 'thread_name']);
    const complete = events.filter((e) => e.ph === 'X');
    expect(complete.map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['setup_heap', 2, 3], ['init', 1, 8], ['init', 0, 10],
      ['decode', 22, 3], ['format', 30, 10], ['handler', 26, 20], ['dispatch', 21, 28], ['call Echo', 20, 30],
      ['dispatch', 61, 8], ['call Fail', 60, 10],
    ]);
    // On one thread, any two complete events are disjoint or one contains the other.
    for (const a of complete) {
      for (const b of complete) {
        const disjoint = a.ts + a.dur! <= b.ts || b.ts + b.dur! <= a.ts;
        const nested = (a.ts <= b.ts && b.ts + b.dur! <= a.ts + a.dur!) || (b.ts <= a.ts && a.ts + a.dur! <= b.ts + b.dur!);
        expect(disjoint || nested, `${a.name}@${a.ts} and ${b.name}@${b.ts}`).toBe(true);
      }
    }
    const within = (child: string, parent: string) => {
      const c = complete.find((e) => e.name === child)!;
      const p = complete.find((e) => e.name === parent && e.ts <= c.ts && c.ts + c.dur! <= e.ts + e.dur!);
      expect(p, `${child} inside ${parent}`).toBeDefined();
    };
    within('format', 'handler');
    within('handler', 'dispatch');
    within('dispatch', 'call Echo');
    within('setup_heap', 'init');
    expect(complete.find((e) => e.name === 'handler')!.args).toEqual({ function: 'Echo' });
    expect(complete.find((e) => e.ts === 61)!.cat).toBe('hyperlight_guest,unclosed');
    expect(complete.find((e) => e.name === 'call Fail')!.args).toEqual({ run: 3, error: 'guest panicked: boom' });
    expect(events.filter((e) => e.ph === 'i').map((e) => [e.name, e.ts, e.args])).toEqual([
      ['heap ready', 3, { size: 65536 }], ['echoing', 27, { len: 5, text: 'hello' }], ['slow call', 47.5, {}],
    ]);
    expect(events.filter((e) => e.ph === 'C').map((e) => [e.ts, e.args!.bytes])).toEqual([
      [2.5, 100], [23, 300], [31, 350], [41, 250], [42, 200], [62, 600], [65, 400],
    ]);
  });
});

describe('flame', () => {
  it('weighs span stacks by self time', () => {
    const svg = parseSvg(ok('flame', trace));
    const frames = flameFrames(svg);
    expect(frames.map((f) => f.title).sort()).toEqual([
      'all — 44 µs (100.00%)',
      'decode — 3 µs (6.82%)',
      'dispatch — 36 µs (81.82%)',
      'format — 10 µs (22.73%)',
      'handler — 20 µs (45.45%)',
      'init — 8 µs (18.18%)',
      'setup_heap — 3 µs (6.82%)',
    ]);
    expect(frames.map((f) => f.label)).toContain('dispatch');
  });

  it('weighs allocation stacks by bytes, with symbol names from --guest, from the allocation site out', () => {
    const out = join(dir, 'alloc-flame.svg');
    expect(ok('flame', '--alloc', trace, '--guest', GUEST_ELF, '-o', out)).toBe('');
    const frames = flameFrames(parseSvg(readFileSync(out, 'utf8')));
    // The allocator's own frames (__rust_alloc, finish_grow) are left out.
    expect(frames.map((f) => f.title).sort()).toEqual([
      'all — 750 bytes (750 B) (100.00%)',
      'simpleguest::call_host_many — 150 bytes (150 B) (20.00%)',
      'simpleguest::panic_large — 600 bytes (600 B) (80.00%)',
    ]);
    expect(frames.map((f) => f.label)).toContain('simpleguest::panic_large');
  });

  it('names frames by hex address without --guest', () => {
    const addresses = returnAddresses();
    const titles = flameFrames(parseSvg(ok('flame', '--alloc', trace))).map((f) => f.title);
    expect(titles).toContain(`${addresses.panicLarge} — 600 bytes (600 B) (80.00%)`);
  });
});

describe('mem', () => {
  it('plots exactly the allocation pattern and prints the top sites', () => {
    const out = join(dir, 'mem.svg');
    expect(ok('mem', trace, '--guest', GUEST_ELF, '-o', out)).toBe(`allocations  4 (750 bytes), 3 frees (350 bytes)
peak live    600 bytes (600 B)
leaked       400 bytes in 1 blocks
plot         ${out}

top allocation sites
site                         allocations  bytes  live blocks  live bytes
---------------------------  -----------  -----  -----------  ----------
simpleguest::panic_large               2    600            1         400
simpleguest::call_host_many            2    150            0           0
`);
    const svg = parseSvg(readFileSync(out, 'utf8'));
    const markers = svg.g.find((g: any) => g.class === 'markers').circle as any[];
    expect(markers.map((m) => m.title)).toEqual([
      'alloc 100 bytes at 0x300000, time 2.5 µs: 100 bytes live',
      'alloc 200 bytes at 0x300100, time 23 µs: 300 bytes live',
      'alloc 50 bytes at 0x300300, time 31 µs: 350 bytes live',
      'free 100 bytes at 0x300000, time 41 µs: 250 bytes live',
      'free 50 bytes at 0x300300, time 42 µs: 200 bytes live',
      'alloc 400 bytes at 0x300400, time 62 µs: 600 bytes live',
      'free 200 bytes at 0x300100, time 65 µs: 400 bytes live',
    ]);
    // The step line goes up and down with each change, to the same heights as the markers.
    const heights = markers.map((m) => Number(m.cy));
    const line = svg.path.find((p: any) => p.class === 'live-bytes').d as string;
    const levels = [...line.matchAll(/V([\d.]+)/g)].map((m) => Number(m[1]));
    expect(levels).toEqual(heights);
    const axisTitles = (svg.text as any[]).map((t) => (typeof t === 'string' ? t : t['#text']));
    expect(axisTitles).toContain('time since the trace started (µs)');
    expect(axisTitles).toContain('live heap (bytes)');
  });

  it('needs -o', () => {
    expect(fails(2, 'mem', trace)).toMatch(/required option '-o, --output <file>' not specified/);
  });
});

describe.skipIf(chromiumSkipReason !== undefined)(`rendering in Chromium${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  it.each([
    ['flame', ['flame', trace], 1200, 300],
    ['allocation flame', ['flame', '--alloc', trace, '--guest', GUEST_ELF], 1200, 300],
    ['memory plot', ['mem', trace, '--guest', GUEST_ELF], 1000, 440],
  ])('%s renders to a picture that is not blank', (name, args, width, height) => {
    const svgPath = join(dir, `${name.replace(/ /g, '-')}.svg`);
    ok(...args, '-o', svgPath);
    const shot = screenshotSvg(svgPath, width, height);
    expect(shot.width).toBe(width);
    expect(shot.inkShare).toBeGreaterThan(0.05);
    expect(shot.colours).toBeGreaterThan(5);
  }, 120_000);
});

describe('errors', () => {
  it('a missing file', () => {
    expect(fails(1, 'summary', join(dir, 'absent.jsonl'))).toBe(`hyperlight-trace-dump: trace file ${join(dir, 'absent.jsonl')}: no such file\n`);
  });

  it('a truncated file', () => {
    const cut = join(dir, 'cut.jsonl');
    const lines = readFileSync(trace, 'utf8').split('\n');
    writeFileSync(cut, `${lines.slice(0, -2).join('\n')}\n`);
    expect(fails(1, 'tree', cut)).toMatch(/cut\.jsonl, line 21: the file ends without a trailer/);
    writeFileSync(cut, readFileSync(trace, 'utf8').slice(0, -30));
    expect(fails(1, 'perfetto', cut)).toMatch(/cut\.jsonl, line 22: the last line is incomplete/);
  });

  it('not a trace', () => {
    const elfCopy = join(dir, 'guest.elf');
    copyFileSync(GUEST_ELF, elfCopy);
    expect(fails(1, 'summary', elfCopy)).toMatch(/guest\.elf, line 1: not JSON/);
    const json = join(dir, 'package.json');
    writeFileSync(json, '{"name":"x"}\n');
    expect(fails(1, 'flame', json)).toMatch(/line 1: line 1 is not a header|is not a header/);
  });

  it('a guest binary that does not match the trace', () => {
    const stderr = fails(1, 'mem', trace, '--guest', OTHER_ELF, '-o', join(dir, 'never.svg'));
    expect(stderr).toBe(
      `hyperlight-trace-dump: trace was recorded with guest ${sha256Of(GUEST_ELF)}, but ${OTHER_ELF} has ${sha256Of(OTHER_ELF)} (--ignore-hash symbolizes anyway)\n`,
    );
    expect(runCli('summary', trace, '--guest', OTHER_ELF, '--ignore-hash').status).toBe(0);
  });

  it('usage errors exit with 2', () => {
    expect(fails(2, 'frobnicate', trace)).toBe("hyperlight-trace-dump: unknown command 'frobnicate'\n");
    expect(fails(2, 'summary', trace, '--bogus')).toBe("hyperlight-trace-dump: unknown option '--bogus'\n");
    expect(fails(2, 'tree', trace, '--depth', 'x')).toMatch(/--depth <n>' argument 'x' is invalid/);
  });
});

describe('progress', () => {
  it('is silent on a pipe and shown with --progress', () => {
    expect(runCli('summary', trace).stderr).toBe('');
    const shown = runCli('summary', trace, '--progress');
    expect(shown.status).toBe(0);
    expect(shown.stderr).toMatch(/^reading guest\.trace\.jsonl: 100% \(/m);
  });
});
