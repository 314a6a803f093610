/**
 * The log area (docs/abi.md, "Log area"): a u32 little-endian count U of used
 * bytes, then U bytes of records, each a frame holding a `LogRecord` payload
 * and padded to a 4-byte boundary. The guest appends; the host drains it on
 * every exit and resets U to 0.
 */
import { Abi } from '../abi/generated.js';
import { GuestProtocolError } from '../errors.js';
import { decodeLogRecord, type LogRecord } from './codec.js';
import { readFrame } from './framing.js';

export type { LogRecord };

/** Records start on this boundary. */
const RECORD_ALIGNMENT = 4;

/**
 * Decodes every record in the log area and resets its used count to 0 (also
 * when it is malformed, so the same bytes are not reported twice). An area
 * too small for the header holds nothing.
 * @returns the records, oldest first
 * @throws GuestProtocolError when U or a record is malformed, naming the record and its offset.
 */
export function drainLogArea(area: Uint8Array): LogRecord[] {
  if (area.byteLength < Abi.FRAME_HEADER_SIZE) return [];
  const header = new DataView(area.buffer, area.byteOffset, Abi.FRAME_HEADER_SIZE);
  const used = header.getUint32(0, true);
  header.setUint32(0, 0, true);
  if (used > area.byteLength - Abi.FRAME_HEADER_SIZE) {
    throw new GuestProtocolError(`log area claims ${used} used bytes but holds at most ${area.byteLength - Abi.FRAME_HEADER_SIZE}`);
  }
  const end = Abi.FRAME_HEADER_SIZE + used;
  const records: LogRecord[] = [];
  // Each record takes at least a frame header, so this ends within used / 4 iterations.
  for (let offset = Abi.FRAME_HEADER_SIZE; offset < end;) {
    const what = `log record ${records.length} at log area offset ${offset}`;
    const payload = readFrame(area.subarray(offset, end), what);
    try {
      records.push(decodeLogRecord(payload));
    } catch (error) {
      if (!(error instanceof GuestProtocolError)) throw error;
      throw new GuestProtocolError(`${what}: ${error.detail}`, { cause: error });
    }
    offset += alignUp(Abi.FRAME_HEADER_SIZE + payload.byteLength, RECORD_ALIGNMENT);
  }
  return records;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
