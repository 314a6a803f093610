/**
 * A `FunctionCall` decoder for the host side of a host call: it reads the
 * call the guest left in its output buffer in place, and verifies while it
 * reads (message-reader.ts says how, and why a malformed message fails
 * exactly as it does in codec.ts).
 *
 * It is verifier.ts's `verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCall)`
 * followed by codec.ts's `decodeFunctionCall`, unrolled for this one schema,
 * for any layout the format allows. Besides the checks every message gets:
 * `function_name` is present, `arguments` (when present) is a vector of
 * `Argument` tables each holding a valid `Value`, and `return_type` is a
 * value type (absent means `None`, which is not one).
 */
import { Abi } from '../abi/generated.js';
import { decodeFunctionCall, type FunctionCallMessage } from './codec.js';
import { readFrame } from './framing.js';
import { ABSENT, INVALID, MessageReader, newByteArray, OFFSET_SIZE } from './message-reader.js';
import { fromWireValueType, type TypedValue } from './values.js';

/**
 * Decodes `FunctionCall` messages from one buffer (normally the guest output
 * buffer), reusing its views across calls. One decode at a time per decoder
 * (decoding is synchronous, so that holds on one thread).
 */
export class CallDecoder extends MessageReader {
  /**
   * Reads the frame at the start of the buffer and decodes its `FunctionCall`
   * payload: `decodeFunctionCall(readFrame(bytes, what))` with the same
   * result and the same errors. Strings and byte arrays are copied, so the
   * call stays valid after the guest overwrites the buffer.
   * @param what - the message expected, for the frame errors (as `readFrame`)
   * @throws GuestProtocolError when the frame does not fit in the buffer or the message is malformed.
   * @example
   * const decoder = new CallDecoder(output); // once per output buffer
   * const call = decoder.decodeFrame();      // at every CALL_HOST exit
   */
  decodeFrame(what = 'frame'): FunctionCallMessage {
    // readFrame throws the error a bad header deserves.
    const length = this.framedPayload() ?? readFrame(this.bytes, what).byteLength;
    return this.decode(Abi.FRAME_HEADER_SIZE, length);
  }

  /**
   * Decodes the `FunctionCall` payload of `size` bytes at `start`, aligned as
   * if its frame header were the 4 bytes before `start`:
   * `decodeFunctionCall(bytes.subarray(start, start + size))` with the same
   * result and the same errors.
   * @throws GuestProtocolError when it is malformed.
   * @throws RangeError when `start` and `size` do not lie inside the buffer (a bug of the caller).
   */
  decode(start: number, size: number): FunctionCallMessage {
    this.checkRange(start, size);
    return this.tryDecode(start, size) ?? decodeFunctionCall(this.bytes.subarray(start, start + size));
  }

  /**
   * The fast path of {@link decode} alone: the call when the payload passes
   * every check, `undefined` (without saying why) when it does not. It
   * returns a call exactly when `decodeFunctionCall` would; callers want
   * {@link decode} or {@link decodeFrame}, which turn `undefined` into the
   * verifier's error.
   * @throws never (for `start` and `size` inside the buffer)
   */
  tryDecode(start: number, size: number): FunctionCallMessage | undefined {
    if (!this.begin(start, size)) return undefined;
    const nameAt = this.field(0, OFFSET_SIZE);
    const argumentsAt = this.field(1, OFFSET_SIZE);
    const returnAt = this.field(2, 1);
    // `function_name` is required; an absent `return_type` is None, which is out of range.
    if (nameAt < 0 || argumentsAt === INVALID || returnAt < 0) return undefined;
    const returnType = fromWireValueType(this.view.getUint8(this.base + returnAt));
    if (returnType === undefined) return undefined;
    const functionName = this.string(this.follow(nameAt));
    if (functionName === undefined) return undefined;
    const args = argumentsAt === ABSENT ? [] : this.arguments(this.follow(argumentsAt));
    if (args === undefined) return undefined;
    return { functionName, args, returnType };
  }

  /** Checks the vector of `Argument` tables at `pos` and reads each value, or `undefined`. */
  private arguments(pos: number): TypedValue[] | undefined {
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return undefined;
    const count = this.view.getUint32(this.base + pos, true);
    const first = pos + OFFSET_SIZE;
    // count * OFFSET_SIZE is below 2**34, exact in a double.
    if (!this.inside(first, count * OFFSET_SIZE) || !this.charge(OFFSET_SIZE + count * OFFSET_SIZE)) return undefined;
    const args: TypedValue[] = [];
    for (let i = 0; i < count; i++) {
      if (!this.table(this.follow(first + i * OFFSET_SIZE))) return undefined;
      const value = this.value(newByteArray);
      if (value === undefined) return undefined;
      args.push(value);
    }
    return args;
  }
}
