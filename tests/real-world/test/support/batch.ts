/**
 * The batch wire format of src/common/batch.h, host side: requests are records
 * `u8 op, u32le arg, u32le len, bytes`; responses `u32le status, u32le len, bytes`.
 */

/** One operation for a library's logic. */
export interface BatchRecord {
  readonly op: number;
  readonly arg: number;
  readonly data: Uint8Array;
  /** What the record is, for failure messages (not sent). */
  readonly label: string;
  /** Most response bytes expected when more than the request's (for {@link splitBatches}; not sent). */
  readonly responseBytes?: number;
}

/** One operation's outcome. */
export interface BatchResult {
  /** 0 on success, else the library's code (as i32: zlib's are negative). */
  readonly status: number;
  readonly data: Uint8Array;
}

const REQUEST_HEADER_BYTES = 9;
const RESPONSE_HEADER_BYTES = 8;

/** Encodes records into one request. */
export function encodeBatch(records: readonly BatchRecord[]): Uint8Array {
  const size = records.reduce((n, r) => n + REQUEST_HEADER_BYTES + r.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    view.setUint8(at, r.op);
    view.setUint32(at + 1, r.arg >>> 0, true);
    view.setUint32(at + 5, r.data.length, true);
    out.set(r.data, at + REQUEST_HEADER_BYTES);
    at += REQUEST_HEADER_BYTES + r.data.length;
  }
  return out;
}

/** Decodes a response. @throws Error when it is truncated. */
export function decodeBatch(response: Uint8Array): BatchResult[] {
  const view = new DataView(response.buffer, response.byteOffset, response.byteLength);
  const results: BatchResult[] = [];
  let at = 0;
  while (at < response.length) {
    if (response.length - at < RESPONSE_HEADER_BYTES) throw new Error(`truncated batch response at byte ${at}`);
    const status = view.getInt32(at, true);
    const len = view.getUint32(at + 4, true);
    if (len > response.length - at - RESPONSE_HEADER_BYTES) throw new Error(`batch response record at byte ${at} runs past the end`);
    results.push({ status, data: response.subarray(at + RESPONSE_HEADER_BYTES, at + RESPONSE_HEADER_BYTES + len) });
    at += RESPONSE_HEADER_BYTES + len;
  }
  return results;
}

/**
 * Splits records into batches of at most `maxBytes` of request and of expected
 * response each (a record larger than that goes alone), so requests and
 * responses fit the sandbox's buffers.
 */
export function splitBatches(records: readonly BatchRecord[], maxBytes: number): BatchRecord[][] {
  const batches: BatchRecord[][] = [];
  let current: BatchRecord[] = [];
  let size = 0;
  for (const r of records) {
    const bytes = REQUEST_HEADER_BYTES + Math.max(r.data.length, r.responseBytes ?? 0);
    if (current.length > 0 && size + bytes > maxBytes) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(r);
    size += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
