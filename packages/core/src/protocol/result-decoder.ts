/**
 * A `FunctionCallResult` decoder for the host's hot path: it reads the frame
 * in place, where the guest wrote it, and verifies while it reads.
 *
 * It is verifier.ts's `verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCallResult)`
 * followed by codec.ts's `decodeFunctionCallResult`, unrolled for this one
 * schema, without the general verifier's per-message objects (a verifier, a
 * DataView, a layout per table, path strings) or the generated readers'
 * `ByteBuffer` and table objects. It reads any layout the format allows, not
 * only the host's own: the guests' builders (front to back in Rust, back to
 * front in C), flatc's, vtables after their tables, shared vtables.
 *
 * It makes the verifier's checks, relative to the payload (alignment
 * relative to the frame start, 4 bytes before it): every table, vtable,
 * field, string and vector lies inside the message and is aligned; vtable
 * sizes and field offsets fit the reader's signed 16 bits; union tags and the
 * error code are in range; required fields are present; strings are
 * NUL-terminated; and the bytes visited stay within twice the message size
 * (aliased offsets). The fast path only answers "valid, and here is the
 * value" or "not sure": for the latter it hands the payload to codec.ts,
 * whose verifier then throws its own `GuestProtocolError` (message
 * included). So a malformed message fails exactly as it does there, and a
 * check stricter than the verifier's would only cost time, never give
 * another answer.
 */
import { Abi } from '../abi/generated.js';
import { decodeFunctionCallResult, type CallResult } from './codec.js';
import { decodeTextRange, readFrame } from './framing.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { ValueType } from './generated/hyperlight/wire/value-type.js';
import type { TypedValue } from './values.js';

/** Largest message: the reader's offsets are signed 32-bit. */
const MAX_MESSAGE_SIZE = 0x7fff_ffff;
/** Largest vtable size or field offset: the reader's vtable entries are signed 16-bit. */
const MAX_VTABLE_ENTRY = 0x7fff;
/** Size of a uoffset, soffset, vector length or string length. */
const OFFSET_SIZE = 4;
/** Bytes of tables, strings and vectors that may be visited per message byte (as verifier.ts). */
const VISITS_PER_BYTE = 2;

/** `Outcome` union tags (schema/function_call_result.fbs). */
const OUTCOME_RETURN_VALUE = 1;
const OUTCOME_CALL_ERROR = 2;
/** Size of the `value` field of each `Value` member, by tag (a string or vector field is a 4-byte uoffset; `VoidValue` has none). */
const MEMBER_FIELD_SIZE = [0, 4, 4, 8, 8, 4, 8, 4, 1, 4, 0] as const;

/** Byte arrays from this size up are allocated without zero-filling: they are overwritten at once, and zeroing costs as much as the copy. */
const UNFILLED_ALLOCATION_SIZE = 4096;

/**
 * Gives the array a byte-array result is copied into: exactly `byteLength`
 * bytes, every one of which the decoder then overwrites. It is called only
 * once the whole message has been checked, so when it throws nothing has
 * been written and the decode fails with its error.
 */
export type ByteArrayAllocator = (byteLength: number) => Uint8Array;

/**
 * The default {@link ByteArrayAllocator}: a new `Uint8Array` over an
 * `ArrayBuffer` of its own, never shared with another result. Large ones are
 * not zero-filled first (every byte is overwritten before anyone sees it).
 * @throws RangeError when memory for it cannot be had.
 */
export function newByteArray(byteLength: number): Uint8Array {
  if (byteLength < UNFILLED_ALLOCATION_SIZE) return new Uint8Array(byteLength);
  const unfilled = Buffer.allocUnsafeSlow(byteLength);
  // A plain Uint8Array, as smaller results are (a Buffer's slice() would be a view, not a copy).
  return new Uint8Array(unfilled.buffer, unfilled.byteOffset, byteLength);
}

/** What {@link ResultDecoder.field} returns for a field the vtable omits. */
const ABSENT = -1;
/** What it returns for a field that breaks a rule. */
const INVALID = -2;

/**
 * Decodes `FunctionCallResult` messages from one buffer (normally the guest
 * output buffer), reusing its views across calls. One decode at a time per
 * decoder (decoding is synchronous, so that holds on one thread).
 */
export class ResultDecoder {
  private readonly view: DataView;
  /** The same memory as `bytes`, for decoding text. */
  private readonly text: Buffer;
  /** Where the payload being decoded starts in `bytes`. */
  private base = 0;
  /** Its length. */
  private size = 0;
  /** Bytes of tables, strings and vectors that may still be visited. */
  private budget = 0;
  /** The current table: its position, and its vtable's position and sizes. */
  private tablePos = 0;
  private vtablePos = 0;
  private vtableSize = 0;
  private tableSize = 0;

  /**
   * @param bytes - the buffer holding the message (its frame at offset 0 for {@link decodeFrame})
   * @throws never
   */
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

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
    const areaSize = this.bytes.byteLength;
    const length = areaSize < Abi.FRAME_HEADER_SIZE ? -1 : this.view.getUint32(0, true);
    // readFrame throws the error a bad header deserves.
    if (length < 0 || length > areaSize - Abi.FRAME_HEADER_SIZE) readFrame(this.bytes, what);
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
    if (!(start >= 0 && size >= 0 && start + size <= this.bytes.byteLength)) {
      throw new RangeError(`payload [${start}, ${start + size}) is not inside the ${this.bytes.byteLength}-byte buffer`);
    }
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
    this.base = start;
    this.size = size;
    this.budget = size * VISITS_PER_BYTE;
    // The root uoffset: 4 bytes at 0 (aligned, as the frame header is 4 bytes).
    if (size > MAX_MESSAGE_SIZE || size < OFFSET_SIZE || !this.table(this.follow(0))) return undefined;
    const outcome = this.union(OUTCOME_CALL_ERROR);
    if (outcome === OUTCOME_RETURN_VALUE) return this.returnValue(allocate);
    if (outcome === OUTCOME_CALL_ERROR) return this.callError();
    return undefined;
  }

  /** Reads the current table as a `ReturnValue`. */
  private returnValue(allocate: ByteArrayAllocator): CallResult | undefined {
    const tag = this.union(ValueType.Void);
    if (tag === INVALID) return undefined;
    const fieldSize = MEMBER_FIELD_SIZE[tag]!;
    const at = fieldSize === 0 ? ABSENT : this.field(0, fieldSize);
    if (at === INVALID) return undefined;
    const view = this.view;
    const abs = this.base + at;
    let value: TypedValue;
    switch (tag) {
      case ValueType.I32: value = { type: 'i32', value: at === ABSENT ? 0 : view.getInt32(abs, true) }; break;
      case ValueType.U32: value = { type: 'u32', value: at === ABSENT ? 0 : view.getUint32(abs, true) }; break;
      case ValueType.I64: value = { type: 'i64', value: at === ABSENT ? 0n : view.getBigInt64(abs, true) }; break;
      case ValueType.U64: value = { type: 'u64', value: at === ABSENT ? 0n : view.getBigUint64(abs, true) }; break;
      case ValueType.F32: value = { type: 'f32', value: at === ABSENT ? 0 : view.getFloat32(abs, true) }; break;
      case ValueType.F64: value = { type: 'f64', value: at === ABSENT ? 0 : view.getFloat64(abs, true) }; break;
      case ValueType.Bool: value = { type: 'bool', value: at === ABSENT ? false : view.getUint8(abs) !== 0 }; break;
      case ValueType.String: {
        // `value` is required.
        const text = at === ABSENT ? undefined : this.string(this.follow(at));
        if (text === undefined) return undefined;
        value = { type: 'string', value: text };
        break;
      }
      case ValueType.Bytes: {
        const bytes = at === ABSENT ? undefined : this.byteVector(this.follow(at), allocate);
        if (bytes === undefined) return undefined;
        value = { type: 'bytes', value: bytes };
        break;
      }
      default:
        value = { type: 'void', value: undefined };
    }
    return { ok: true, value };
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

  /** Whether `length` bytes at `pos` lie inside the message. */
  private inside(pos: number, length: number): boolean {
    return pos >= 0 && pos <= this.size && length <= this.size - pos;
  }

  /** The position a uoffset at `pos` (already bounds-checked) points to. */
  private follow(pos: number): number {
    return pos + this.view.getUint32(this.base + pos, true);
  }

  /** Checks the table at `pos` and, if it is valid, makes it the current table. */
  private table(pos: number): boolean {
    // `pos` comes from `follow`, so it is not negative; positions are frame-aligned 4 bytes later.
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return false;
    const view = this.view;
    const base = this.base;
    const vtable = pos - view.getInt32(base + pos, true);
    if (vtable % 2 !== 0 || !this.inside(vtable, 4)) return false;
    const vtableSize = view.getUint16(base + vtable, true);
    const tableSize = view.getUint16(base + vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtableSize > MAX_VTABLE_ENTRY || !this.inside(vtable, vtableSize)) return false;
    if (tableSize < OFFSET_SIZE || !this.inside(pos, tableSize)) return false;
    if ((this.budget -= tableSize) < 0) return false;
    this.tablePos = pos;
    this.vtablePos = vtable;
    this.vtableSize = vtableSize;
    this.tableSize = tableSize;
    return true;
  }

  /** The position of field `slot` (of `size` bytes) of the current table, {@link ABSENT} or {@link INVALID}. */
  private field(slot: number, size: number): number {
    const entry = 4 + 2 * slot;
    if (entry >= this.vtableSize) return ABSENT;
    const offset = this.view.getUint16(this.base + this.vtablePos + entry, true);
    if (offset === 0) return ABSENT;
    if (offset < OFFSET_SIZE || offset > MAX_VTABLE_ENTRY || offset + size > this.tableSize) return INVALID;
    const at = this.tablePos + offset;
    return (at + Abi.FRAME_HEADER_SIZE) % size === 0 ? at : INVALID;
  }

  /**
   * Reads the required union of `count` members in slots 0 (tag) and 1
   * (value) of the current table, and makes its member table current.
   * @returns the tag, or {@link INVALID}.
   */
  private union(count: number): number {
    const typeAt = this.field(0, 1);
    const valueAt = this.field(1, OFFSET_SIZE);
    if (typeAt < 0 || valueAt < 0) return INVALID;
    const tag = this.view.getUint8(this.base + typeAt);
    if (tag === 0 || tag > count || !this.table(this.follow(valueAt))) return INVALID;
    return tag;
  }

  /** Checks the string at `pos` and decodes it (invalid UTF-8 replaced, as codec.ts), or `undefined`. */
  private string(pos: number): string | undefined {
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return undefined;
    const length = this.view.getUint32(this.base + pos, true);
    if (!this.inside(pos, OFFSET_SIZE + length + 1)) return undefined;
    const start = this.base + pos + OFFSET_SIZE;
    if (this.bytes[start + length] !== 0 || (this.budget -= OFFSET_SIZE + length + 1) < 0) return undefined;
    return decodeTextRange(this.text, start, start + length);
  }

  /**
   * Checks the `[ubyte]` vector at `pos` and copies it into an array from
   * `allocate`, or `undefined`. The last step of a decode: nothing is
   * checked after it.
   */
  private byteVector(pos: number, allocate: ByteArrayAllocator): Uint8Array | undefined {
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return undefined;
    const count = this.view.getUint32(this.base + pos, true);
    if (!this.inside(pos + OFFSET_SIZE, count) || (this.budget -= OFFSET_SIZE + count) < 0) return undefined;
    const start = this.base + pos + OFFSET_SIZE;
    const target = allocate(count);
    if (target.byteLength !== count) throw new RangeError(`the allocator gave ${target.byteLength} bytes for a ${count}-byte array`);
    target.set(this.bytes.subarray(start, start + count));
    return target;
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
