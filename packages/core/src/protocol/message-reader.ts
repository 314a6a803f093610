/**
 * What the host's in-place decoders of guest messages share: reading a
 * flatbuffer where the guest wrote it and checking it while reading, with
 * exactly the rules of verifier.ts, but with none of the verifier's
 * per-message objects (a verifier, a DataView, a layout per table, path
 * strings) and none of the generated readers' `ByteBuffer` and table objects.
 * result-decoder.ts (`FunctionCallResult`, the answer to every call) and
 * call-decoder.ts (`FunctionCall`, each host call) build on it.
 *
 * The checks, relative to the payload (alignment relative to the frame
 * start, 4 bytes before it): every table, vtable, field, string and vector
 * lies inside the message and is aligned; vtable sizes and field offsets fit
 * the reader's signed 16 bits; union tags are in range; strings are
 * NUL-terminated; and the bytes visited stay within twice the message size
 * (aliased offsets). A decoder answers only "valid, and here is the value" or
 * "not sure": for the latter it hands the payload to codec.ts, whose verifier
 * then throws its own `GuestProtocolError`. So a malformed message fails
 * exactly as it does there, and a check stricter than the verifier's would
 * only cost time, never give another answer.
 */
import { Abi } from '../abi/generated.js';
import { decodeTextRange } from './framing.js';
import { ValueType } from './generated/hyperlight/wire/value-type.js';
import type { TypedValue } from './values.js';

/** Largest message: the reader's offsets are signed 32-bit. */
const MAX_MESSAGE_SIZE = 0x7fff_ffff;
/** Largest vtable size or field offset: the reader's vtable entries are signed 16-bit. */
const MAX_VTABLE_ENTRY = 0x7fff;
/** Size of a uoffset, soffset, vector length or string length. */
export const OFFSET_SIZE = 4;
/** Bytes of tables, strings and vectors that may be visited per message byte (as verifier.ts). */
const VISITS_PER_BYTE = 2;
/** Size of the `value` field of each `Value` member, by tag (a string or vector field is a 4-byte uoffset; `VoidValue` has none). */
const MEMBER_FIELD_SIZE = [0, 4, 4, 8, 8, 4, 8, 4, 1, 4, 0] as const;

/** What {@link MessageReader.field} returns for a field the vtable omits. */
export const ABSENT = -1;
/** What it returns for a field that breaks a rule. */
export const INVALID = -2;

/** Byte arrays from this size up are allocated without zero-filling: they are overwritten at once, and zeroing costs as much as the copy. */
const UNFILLED_ALLOCATION_SIZE = 4096;

/**
 * Gives the array a decoded byte array is copied into: exactly `byteLength`
 * bytes, every one of which the decoder then overwrites. It is called once
 * the vector itself has been checked; a `FunctionCallResult` has nothing
 * left to check by then, so when it throws there, nothing has been written
 * and the decode fails with its error.
 */
export type ByteArrayAllocator = (byteLength: number) => Uint8Array;

/**
 * The default {@link ByteArrayAllocator}: a new `Uint8Array` over an
 * `ArrayBuffer` of its own, never shared with another value. Large ones are
 * not zero-filled first (every byte is overwritten before anyone sees it).
 * @throws RangeError when memory for it cannot be had.
 */
export function newByteArray(byteLength: number): Uint8Array {
  if (byteLength < UNFILLED_ALLOCATION_SIZE) return new Uint8Array(byteLength);
  const unfilled = Buffer.allocUnsafeSlow(byteLength);
  // A plain Uint8Array, as smaller ones are (a Buffer's slice() would be a view, not a copy).
  return new Uint8Array(unfilled.buffer, unfilled.byteOffset, byteLength);
}

/**
 * Reads one message at a time from one buffer (normally the guest output
 * buffer), reusing its views. Subclasses decode one schema each, with
 * {@link begin} and the primitives below; one decode at a time per reader
 * (decoding is synchronous, so that holds on one thread).
 */
export abstract class MessageReader {
  protected readonly view: DataView;
  /** The same memory as `bytes`, for decoding text. */
  private readonly text: Buffer;
  /** Where the payload being decoded starts in `bytes`. */
  protected base = 0;
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
   * @param bytes - the buffer holding the message
   * @throws never
   */
  constructor(protected readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * The payload length of the frame at the start of the buffer (its payload
   * starts at `FRAME_HEADER_SIZE`), or `undefined` when the header or the
   * payload does not fit (the caller then lets `readFrame` throw the error
   * that deserves).
   */
  protected framedPayload(): number | undefined {
    const areaSize = this.bytes.byteLength;
    if (areaSize < Abi.FRAME_HEADER_SIZE) return undefined;
    const length = this.view.getUint32(0, true);
    return length > areaSize - Abi.FRAME_HEADER_SIZE ? undefined : length;
  }

  /**
   * @throws RangeError unless `size` bytes at `start` lie inside the buffer (a bug of the caller).
   */
  protected checkRange(start: number, size: number): void {
    if (!(start >= 0 && size >= 0 && start + size <= this.bytes.byteLength)) {
      throw new RangeError(`payload [${start}, ${start + size}) is not inside the ${this.bytes.byteLength}-byte buffer`);
    }
  }

  /**
   * Starts reading the payload of `size` bytes at `start` (inside the
   * buffer) and makes its root table current.
   * @returns false when the root table is not valid.
   */
  protected begin(start: number, size: number): boolean {
    this.base = start;
    this.size = size;
    this.budget = size * VISITS_PER_BYTE;
    // The root uoffset: 4 bytes at 0 (aligned, as the frame header is 4 bytes).
    return size <= MAX_MESSAGE_SIZE && size >= OFFSET_SIZE && this.table(this.follow(0));
  }

  /** Whether `length` bytes at `pos` lie inside the message. */
  protected inside(pos: number, length: number): boolean {
    return pos >= 0 && pos <= this.size && length <= this.size - pos;
  }

  /** The position a uoffset at `pos` (already bounds-checked) points to. */
  protected follow(pos: number): number {
    return pos + this.view.getUint32(this.base + pos, true);
  }

  /** Spends `length` bytes of the visiting budget; false when it runs out. */
  protected charge(length: number): boolean {
    return (this.budget -= length) >= 0;
  }

  /** Checks the table at `pos` and, if it is valid, makes it the current table. */
  protected table(pos: number): boolean {
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
    if (!this.charge(tableSize)) return false;
    this.tablePos = pos;
    this.vtablePos = vtable;
    this.vtableSize = vtableSize;
    this.tableSize = tableSize;
    return true;
  }

  /** The position of field `slot` (of `size` bytes) of the current table, {@link ABSENT} or {@link INVALID}. */
  protected field(slot: number, size: number): number {
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
  protected union(count: number): number {
    const typeAt = this.field(0, 1);
    const valueAt = this.field(1, OFFSET_SIZE);
    if (typeAt < 0 || valueAt < 0) return INVALID;
    const tag = this.view.getUint8(this.base + typeAt);
    if (tag === 0 || tag > count || !this.table(this.follow(valueAt))) return INVALID;
    return tag;
  }

  /**
   * Reads the required `Value` union in slots 0 and 1 of the current table
   * (an `Argument` or a `ReturnValue`) as codec.ts does, or `undefined`.
   * Strings and byte arrays are copied (byte arrays into what `allocate` gives).
   */
  protected value(allocate: ByteArrayAllocator): TypedValue | undefined {
    const tag = this.union(ValueType.Void);
    if (tag === INVALID) return undefined;
    const fieldSize = MEMBER_FIELD_SIZE[tag]!;
    const at = fieldSize === 0 ? ABSENT : this.field(0, fieldSize);
    if (at === INVALID) return undefined;
    const view = this.view;
    const abs = this.base + at;
    switch (tag) {
      case ValueType.I32: return { type: 'i32', value: at === ABSENT ? 0 : view.getInt32(abs, true) };
      case ValueType.U32: return { type: 'u32', value: at === ABSENT ? 0 : view.getUint32(abs, true) };
      case ValueType.I64: return { type: 'i64', value: at === ABSENT ? 0n : view.getBigInt64(abs, true) };
      case ValueType.U64: return { type: 'u64', value: at === ABSENT ? 0n : view.getBigUint64(abs, true) };
      case ValueType.F32: return { type: 'f32', value: at === ABSENT ? 0 : view.getFloat32(abs, true) };
      case ValueType.F64: return { type: 'f64', value: at === ABSENT ? 0 : view.getFloat64(abs, true) };
      case ValueType.Bool: return { type: 'bool', value: at === ABSENT ? false : view.getUint8(abs) !== 0 };
      case ValueType.String: {
        // `value` is required.
        const text = at === ABSENT ? undefined : this.string(this.follow(at));
        return text === undefined ? undefined : { type: 'string', value: text };
      }
      case ValueType.Bytes: {
        const bytes = at === ABSENT ? undefined : this.byteVector(this.follow(at), allocate);
        return bytes === undefined ? undefined : { type: 'bytes', value: bytes };
      }
      default:
        return { type: 'void', value: undefined };
    }
  }

  /** Checks the string at `pos` and decodes it (invalid UTF-8 replaced, as codec.ts), or `undefined`. */
  protected string(pos: number): string | undefined {
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return undefined;
    const length = this.view.getUint32(this.base + pos, true);
    if (!this.inside(pos, OFFSET_SIZE + length + 1)) return undefined;
    const start = this.base + pos + OFFSET_SIZE;
    if (this.bytes[start + length] !== 0 || !this.charge(OFFSET_SIZE + length + 1)) return undefined;
    return decodeTextRange(this.text, start, start + length);
  }

  /** Checks the `[ubyte]` vector at `pos` and copies it into an array from `allocate`, or `undefined`. */
  private byteVector(pos: number, allocate: ByteArrayAllocator): Uint8Array | undefined {
    if (pos % 4 !== 0 || !this.inside(pos, OFFSET_SIZE)) return undefined;
    const count = this.view.getUint32(this.base + pos, true);
    if (!this.inside(pos + OFFSET_SIZE, count) || !this.charge(OFFSET_SIZE + count)) return undefined;
    const start = this.base + pos + OFFSET_SIZE;
    const target = allocate(count);
    if (target.byteLength !== count) throw new RangeError(`the allocator gave ${target.byteLength} bytes for a ${count}-byte array`);
    target.set(this.bytes.subarray(start, start + count));
    return target;
  }
}
