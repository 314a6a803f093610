/**
 * A `FunctionCallResult` decoder for the host's hot path: it reads the frame
 * in place, where the guest wrote it, and verifies while it reads
 * (message-reader.ts says how, and why a malformed message fails exactly as
 * it does in codec.ts).
 *
 * It is verifier.ts's `verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCallResult)`
 * followed by codec.ts's `decodeFunctionCallResult`, unrolled for this one
 * schema. It reads any layout the format allows, not only the host's own:
 * the guests' builders (front to back in Rust, back to front in C), flatc's,
 * vtables after their tables, shared vtables. Besides the checks every
 * message gets, the outcome and the error code must be in range.
 */
import { Abi } from '../abi/generated.js';
import { decodeFunctionCallResult, type CallResult } from './codec.js';
import { readFrame } from './framing.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { ABSENT, INVALID, MessageReader, newByteArray, OFFSET_SIZE, type ByteArrayAllocator } from './message-reader.js';

/** `Outcome` union tags (schema/function_call_result.fbs). */
const OUTCOME_RETURN_VALUE = 1;
const OUTCOME_CALL_ERROR = 2;

/**
 * Decodes `FunctionCallResult` messages from one buffer (normally the guest
 * output buffer), reusing its views across calls. One decode at a time per
 * decoder (decoding is synchronous, so that holds on one thread).
 */
export class ResultDecoder extends MessageReader {
  /**
   * Reads the frame at the start of the buffer and decodes its
   * `FunctionCallResult` payload: `decodeFunctionCallResult(readFrame(bytes, what))`
   * with the same result and the same errors. Strings and byte arrays are
   * copied, so the result stays valid after the guest overwrites the buffer.
   * @param what - the message expected, for the frame errors (as `readFrame`)
   * @param allocate - where a byte-array result is copied to (default: a new array)
   * @throws GuestProtocolError when the frame does not fit in the buffer or the message is malformed.
   * @throws what `allocate` throws, for a valid message whose byte array it refuses.
   * @example
   * const decoder = new ResultDecoder(output); // once per output buffer
   * const result = decoder.decodeFrame();      // after every HALT
   */
  decodeFrame(what = 'frame', allocate: ByteArrayAllocator = newByteArray): CallResult {
    // readFrame throws the error a bad header deserves.
    const length = this.framedPayload() ?? readFrame(this.bytes, what).byteLength;
    return this.decode(Abi.FRAME_HEADER_SIZE, length, allocate);
  }

  /**
   * Decodes the `FunctionCallResult` payload of `size` bytes at `start`,
   * aligned as if its frame header were the 4 bytes before `start`:
   * `decodeFunctionCallResult(bytes.subarray(start, start + size))` with the
   * same result and the same errors.
   * @param allocate - as for {@link decodeFrame}
   * @throws GuestProtocolError when it is malformed.
   * @throws RangeError when `start` and `size` do not lie inside the buffer (a bug of the caller).
   * @throws what `allocate` throws, for a valid message whose byte array it refuses.
   */
  decode(start: number, size: number, allocate: ByteArrayAllocator = newByteArray): CallResult {
    this.checkRange(start, size);
    return this.tryDecode(start, size, allocate) ?? decodeFunctionCallResult(this.bytes.subarray(start, start + size));
  }

  /**
   * The fast path of {@link decode} alone: the result when the payload passes
   * every check, `undefined` (without saying why) when it does not. It
   * returns a result exactly when `decodeFunctionCallResult` would; callers
   * want {@link decode} or {@link decodeFrame}, which turn `undefined` into
   * the verifier's error.
   * @param allocate - as for {@link decodeFrame}
   * @throws only what `allocate` throws (for `start` and `size` inside the buffer)
   */
  tryDecode(start: number, size: number, allocate: ByteArrayAllocator = newByteArray): CallResult | undefined {
    if (!this.begin(start, size)) return undefined;
    const outcome = this.union(OUTCOME_CALL_ERROR);
    if (outcome === OUTCOME_RETURN_VALUE) {
      // Reading the value (the copy of a byte array included) is the last step.
      const value = this.value(allocate);
      return value === undefined ? undefined : { ok: true, value };
    }
    if (outcome === OUTCOME_CALL_ERROR) return this.callError();
    return undefined;
  }

  /** Reads the current table as a `CallError`. */
  private callError(): CallResult | undefined {
    const codeAt = this.field(0, 4);
    // Absent means the default, None, which is not a valid code either.
    if (codeAt < 0) return undefined;
    const code = this.view.getUint32(this.base + codeAt, true);
    if (code < ErrorCode.FunctionNotFound || code > ErrorCode.MessageTooLarge) return undefined;
    const messageAt = this.field(1, OFFSET_SIZE);
    if (messageAt === INVALID) return undefined;
    const message = messageAt === ABSENT ? '' : this.string(this.follow(messageAt));
    if (message === undefined) return undefined;
    return { ok: false, code, message };
  }
}

/**
 * Decodes a `FunctionCallResult` payload (what `readFrame` returns): a
 * drop-in for codec.ts `decodeFunctionCallResult`, with the same results and
 * errors. For repeated decoding from one buffer keep a {@link ResultDecoder}.
 * @throws GuestProtocolError when it is malformed.
 */
export function decodeResultPayload(payload: Uint8Array): CallResult {
  return new ResultDecoder(payload).decode(0, payload.byteLength);
}
