import type { CliStreams, CommonOptions } from '../cli-context.js';
import { formatBytes, formatDurationNs } from '../format-units.js';
import { LiveBytesSeries } from '../live-bytes-series.js';
import { LiveHeap } from '../live-heap.js';
import { renderMemoryPlot } from '../mem-plot-svg.js';
import { OutputSink } from '../output-sink.js';
import { printable } from '../printable-text.js';
import { isAllocatorFrame } from '../symbols/allocator-frames.js';
import type { Symbolizer } from '../symbols/symbolizer.js';
import { renderTable } from '../text-table.js';
import { TraceInput } from '../trace-input.js';

/** Options of the `mem` command. */
export interface MemOptions extends CommonOptions {
  /** The SVG plot's file (stdout carries the allocation sites). */
  readonly output: string;
  /** Rows in the allocation-site table. */
  readonly top: number;
}

interface Site {
  readonly name: string;
  allocations: number;
  allocatedBytes: number;
  liveBytes: number;
  liveBlocks: number;
}

/**
 * `mem`: live heap bytes over time as an SVG plot (`-o`), and on stdout the
 * heap totals and the top allocation sites: the innermost frame of each
 * allocation's stack outside the allocator, with allocations, bytes and what
 * was still live (leaked) at the end.
 * @throws TraceFileError when the trace cannot be read
 * @throws TraceDumpError when the guest binary does not match or the output cannot be written
 */
export async function memCommand(path: string, options: MemOptions, streams: CliStreams): Promise<void> {
  const input = await TraceInput.open(path, options, streams);
  const heap = new LiveHeap();
  const series = new LiveBytesSeries();
  const sites = new Map<string, Site>();
  const blocks = new Map<string, { readonly site: Site; readonly sizeBytes: number }>();
  for await (const line of input.lines()) {
    if (line.type !== 'alloc' && line.type !== 'free') continue;
    const address = line.address.toLowerCase();
    const live = heap.apply(line);
    series.add(line.time, live, `${line.type} ${line.size} bytes at ${address}, time ${formatDurationNs(line.time)}: ${live} bytes live`);
    // A free, or an allocation reusing a live block's address, ends that block.
    const previous = blocks.get(address);
    if (previous) {
      previous.site.liveBlocks--;
      previous.site.liveBytes -= previous.sizeBytes;
      blocks.delete(address);
    }
    if (line.type === 'alloc') {
      const name = allocationSite(line.stack, input.symbolizer);
      const site = sites.get(name) ?? { name, allocations: 0, allocatedBytes: 0, liveBytes: 0, liveBlocks: 0 };
      site.allocations++;
      site.allocatedBytes += line.size;
      site.liveBytes += line.size;
      site.liveBlocks++;
      sites.set(name, site);
      blocks.set(address, { site, sizeBytes: line.size });
    }
  }
  const plot = OutputSink.open(options.output, streams.stdout);
  await plot.write(renderMemoryPlot(series, `Guest live heap bytes (${printable(path, 80)})`));
  await plot.close();

  const out = OutputSink.open(undefined, streams.stdout);
  await out.write(
    `allocations  ${heap.allocations} (${heap.allocatedBytes} bytes), ${heap.frees} frees (${heap.freedBytes} bytes)\n` +
      `peak live    ${heap.peakLiveBytes} bytes (${formatBytes(heap.peakLiveBytes)})\n` +
      `leaked       ${heap.liveBytes} bytes in ${heap.liveBlocks} blocks\n` +
      `plot         ${options.output}\n`,
  );
  const rows = [...sites.values()]
    .sort((a, b) => b.allocatedBytes - a.allocatedBytes || b.allocations - a.allocations)
    .slice(0, options.top)
    .map((s) => [printable(s.name, 80), String(s.allocations), String(s.allocatedBytes), String(s.liveBlocks), String(s.liveBytes)]);
  if (rows.length > 0) {
    await out.write(`\ntop allocation sites\n${renderTable(['site', 'allocations', 'bytes', 'live blocks', 'live bytes'], rows, [1, 2, 3, 4])}`);
  }
  await out.close();
}

/** The innermost frame outside the allocator (or the outermost frame, if all are inside it). */
function allocationSite(stack: readonly string[], symbols: Symbolizer): string {
  if (stack.length === 0) return '(no stack)';
  for (const address of stack) {
    const name = symbols.frameName(address);
    if (!isAllocatorFrame(name)) return name;
  }
  return symbols.frameName(stack.at(-1)!);
}
