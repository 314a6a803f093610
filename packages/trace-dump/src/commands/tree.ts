import type { EventLine, RunLine, TraceFieldValue } from '@hyperlight-ts/tracing';

import type { CliStreams, CommonOptions } from '../cli-context.js';
import { formatDurationNs } from '../format-units.js';
import { OutputSink } from '../output-sink.js';
import { printable } from '../printable-text.js';
import { SpanForest, type SpanNode } from '../span-forest.js';
import { TraceInput } from '../trace-input.js';

/** Options of the `tree` command. */
export interface TreeOptions extends CommonOptions {
  /** Only this run. */
  readonly run?: number;
  /** Hide spans shorter than this many microseconds (and what is inside them). */
  readonly minDuration?: number;
  /** Show spans down to this depth (1: root spans only). */
  readonly depth?: number;
}

/** Deepest span level printed: far deeper than guests nest (64 open spans), shallow enough for the stack. */
const MAX_TREE_DEPTH = 256;

type Item = { readonly atNs: number; readonly node: SpanNode } | { readonly atNs: number; readonly event: EventLine };

/**
 * `tree`: each run's spans as an indented tree with durations and start
 * times, events inline under their span. Runs are printed as they complete,
 * so only one run's spans are held at a time.
 * @throws TraceFileError when the trace cannot be read
 * @throws TraceDumpError when the guest binary does not match
 */
export async function treeCommand(path: string, options: TreeOptions, streams: CliStreams): Promise<void> {
  const input = await TraceInput.open(path, options, streams);
  const out = OutputSink.open(undefined, streams.stdout);
  const minDurationNs = (options.minDuration ?? 0) * 1000;
  const maxDepth = Math.min(options.depth ?? Infinity, MAX_TREE_DEPTH);
  let items: Item[] = [];
  let runLine: RunLine | undefined;
  let current = 0;
  const forest = new SpanForest(true, (node) => items.push({ atNs: node.span.start, node }));

  const printRun = async () => {
    for (const event of forest.finish()) items.push({ atNs: event.time, event });
    if (current === 0 || (items.length === 0 && !runLine)) return;
    const lines = [runTitle(current, runLine)];
    for (const item of items.sort((a, b) => a.atNs - b.atNs)) {
      if ('event' in item) lines.push(eventText(item.event, 1));
      else appendSpan(lines, item.node, 1);
    }
    await out.write(`${lines.join('\n')}\n\n`);
  };
  const appendSpan = (lines: string[], node: SpanNode, depth: number) => {
    const { span } = node;
    if (depth > maxDepth || span.end - span.start < minDurationNs) return;
    const flags = span.unclosed ? '  (unclosed)' : '';
    lines.push(`${indent(depth)}${printable(span.name)}  ${formatDurationNs(span.end - span.start)}  at ${formatDurationNs(span.start)}${fieldsText(span.fields)}${flags}`);
    const children: Item[] = [
      ...node.children.map((child) => ({ atNs: child.span.start, node: child })),
      ...node.events.map((event) => ({ atNs: event.time, event })),
    ];
    for (const item of children.sort((a, b) => a.atNs - b.atNs)) {
      if ('event' in item) {
        if (depth + 1 <= maxDepth) lines.push(eventText(item.event, depth + 1));
      } else appendSpan(lines, item.node, depth + 1);
    }
  };

  for await (const line of input.lines()) {
    if (options.run !== undefined && line.run !== options.run) continue;
    if (line.run !== current) {
      await printRun();
      items = [];
      runLine = undefined;
      current = line.run;
    }
    if (line.type === 'run') runLine = line;
    else if (line.type === 'span') forest.addSpan(line);
    else if (line.type === 'event') {
      if (line.span === null) items.push({ atNs: line.time, event: line });
      else forest.addEvent(line);
    }
  }
  await printRun();
  await out.close();
}

function runTitle(run: number, line: RunLine | undefined): string {
  if (!line) return `run ${run}`;
  const what = line.operation === 'init' ? 'init' : `call ${printable(line.function ?? '?')}`;
  const error = line.error === null ? '' : `, error: ${printable(line.error)}`;
  return `run ${run}: ${what}  ${formatDurationNs(line.end - line.start)}  at ${formatDurationNs(line.start)}${error}`;
}

function eventText(event: EventLine, depth: number): string {
  return `${indent(depth)}• ${event.level} ${printable(event.name)}  at ${formatDurationNs(event.time)}${fieldsText(event.fields)}`;
}

function fieldsText(fields: Readonly<Record<string, TraceFieldValue>>): string {
  const entries = Object.entries(fields);
  if (entries.length === 0) return '';
  return `  {${entries.map(([key, value]) => `${printable(key)}=${typeof value === 'string' ? JSON.stringify(value) : String(value)}`).join(', ')}}`;
}

function indent(depth: number): string {
  return '  '.repeat(depth);
}
