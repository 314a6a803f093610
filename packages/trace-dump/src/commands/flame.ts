import type { MemoryLine } from '@hyperlight-ts/tracing';

import type { CliStreams, CommonOptions } from '../cli-context.js';
import { FlameGraphBuilder, MAX_FLAME_DEPTH, renderFlameGraph } from '../flame-graph-svg.js';
import { formatBytes, formatDurationNs } from '../format-units.js';
import { OutputSink } from '../output-sink.js';
import { SpanForest, type SpanNode } from '../span-forest.js';
import { isAllocatorFrame } from '../symbols/allocator-frames.js';
import { TraceInput } from '../trace-input.js';

/** Options of the `flame` command. */
export interface FlameOptions extends CommonOptions {
  /** Output file; stdout when absent. */
  readonly output?: string;
  /** Weigh allocation stacks by bytes allocated instead of spans by self time. */
  readonly alloc?: boolean;
}

/**
 * `flame`: a flame graph SVG. By default from spans: each span's self time
 * on the stack of span names from its root, so equal stacks merge. With
 * `--alloc`, from the stacks of `alloc` lines, weighted by bytes, each frame
 * named by the guest's symbols (hex without `--guest`).
 * @throws TraceFileError when the trace cannot be read
 * @throws TraceDumpError when the guest binary does not match or the output cannot be written
 */
export async function flameCommand(path: string, options: FlameOptions, streams: CliStreams): Promise<void> {
  const input = await TraceInput.open(path, options, streams);
  const builder = new FlameGraphBuilder();
  if (options.alloc) {
    const symbols = input.symbolizer;
    for await (const line of input.lines()) {
      if (line.type !== 'alloc') continue;
      builder.add(allocationStack(line, (address) => symbols.frameName(address)), line.size);
    }
  } else {
    const forest = new SpanForest(true, (root) => foldSpans(root, [], builder));
    let run = 0;
    for await (const line of input.lines()) {
      if (line.run !== run) {
        forest.finish();
        run = line.run;
      }
      if (line.type === 'span') forest.addSpan(line);
    }
    forest.finish();
  }
  const out = OutputSink.open(options.output, streams.stdout);
  await out.write(
    renderFlameGraph(builder.root, options.alloc
      ? { title: 'Guest heap allocations (bytes allocated by stack)', formatWeight: (b) => `${b} bytes (${formatBytes(b)})`, palette: 'cool' }
      : { title: 'Guest spans (self time by stack of span names)', formatWeight: formatDurationNs, palette: 'warm' }),
  );
  await out.close();
}

/**
 * An allocation's stack, outermost frame first, as names, without the
 * allocator's own innermost frames (all of them when nothing else is left).
 */
function allocationStack(line: MemoryLine, name: (address: string) => string): string[] {
  if (line.stack.length === 0) return ['(no stack)'];
  const names = line.stack.slice(0, MAX_FLAME_DEPTH).map(name);
  const site = names.findIndex((n) => !isAllocatorFrame(n));
  return (site < 0 ? names : names.slice(site)).reverse();
}

function foldSpans(node: SpanNode, parents: readonly string[], builder: FlameGraphBuilder): void {
  const stack = [...parents, node.span.name];
  builder.add(stack, node.selfNs);
  if (stack.length < MAX_FLAME_DEPTH) for (const child of node.children) foldSpans(child, stack, builder);
}
