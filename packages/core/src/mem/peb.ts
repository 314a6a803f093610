/**
 * The process environment block: one read-only page that tells the guest
 * where everything is (docs/abi.md, "PEB"). `rdi` holds its address at entry.
 */
import { Abi, PebOffset } from '../abi/generated.js';
import { ConfigurationError } from '../errors.js';
import { LogLevel } from '../protocol/generated/hyperlight/wire/log-level.js';
import type { GuestMemory } from './guest-memory.js';
import type { MemoryLayout } from './layout.js';

/** Values of the PEB that do not come from the memory layout. */
export interface PebOptions {
  /** Most verbose `LogLevel` the host wants (0 = Trace ... 6 = Off); the guest drops records below it. */
  readonly maxLogLevel: number;
}

/**
 * Zeroes the PEB page and writes every field, in `PebOffset` order.
 * @throws ConfigurationError when `maxLogLevel` is not a `LogLevel` (0-6).
 * @throws GuestProtocolError when the PEB page is outside `memory` (a layout for a larger VM).
 */
export function writePeb(memory: GuestMemory, layout: MemoryLayout, options: PebOptions): void {
  const { maxLogLevel } = options;
  if (!Number.isInteger(maxLogLevel) || maxLogLevel < LogLevel.Trace || maxLogLevel > LogLevel.Off) {
    throw new ConfigurationError('maxLogLevel', `must be a LogLevel from ${LogLevel.Trace} (Trace) to ${LogLevel.Off} (Off), got ${String(maxLogLevel)}`);
  }
  const hasInitData = layout.initDataBlobSize > 0;
  // Typed as a record of every PebOffset key, so a field added to abi.json does not compile until it has a value here.
  const fields: Record<keyof typeof PebOffset, bigint | number> = {
    magic: Abi.PEB_MAGIC,
    abiVersion: Abi.ABI_VERSION,
    inputGva: layout.inputGpa,
    inputSize: layout.inputSize,
    outputGva: layout.outputGpa,
    outputSize: layout.outputSize,
    heapGva: layout.heapGpa,
    heapSize: layout.heapSize,
    stackGva: layout.stackGpa,
    stackSize: layout.stackSize,
    // docs/abi.md: 0/0 when there is no init data.
    initDataGva: hasInitData ? layout.initDataGpa : 0,
    initDataSize: layout.initDataBlobSize,
    logGva: layout.logGpa,
    logSize: layout.logSize,
    maxLogLevel,
    imageGva: layout.imageGpa,
    imageSize: layout.imageSize,
    traceGva: layout.traceGpa,
    traceSize: layout.traceSize,
    // Written by the host on each CLOCK exit.
    clockNs: 0,
  };
  memory.fill(layout.pebGpa, layout.pebSize);
  for (const [name, offset] of Object.entries(PebOffset) as [keyof typeof PebOffset, number][]) {
    memory.writeU64(layout.pebGpa + offset, fields[name]);
  }
}
