/**
 * A `FunctionCallResult` decoder for the host's hot path: it reads the frame
 * in place, where the guest wrote it, and verifies while it reads.
 *
 * It is verifier.ts's `verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCallResult)`
 * followed by codec.ts's `decodeFunctionCallResult`, unrolled for this one
 * schema: the same checks in the same order, failing with the same
 * `GuestProtocolError` and the same message, and the same decoded value. What
 * it saves is the general verifier's per-message objects (a verifier, a
 * DataView, a layout per table, path strings) and the generated readers'
 * `ByteBuffer` and table objects. Any layout the format allows is read, not
 * only the host's own: the guests' builders (front to back in Rust, back to
 * front in C), flatc's, vtables after their tables, shared vtables.
 *
 * The checks, all relative to the payload (alignment relative to the frame
 * start, 4 bytes before it): every table, vtable, field, string and vector
 * lies inside the message and is aligned; vtable sizes and field offsets fit
 * the reader's signed 16 bits; the union tags and the error code are in
 * range; required fields are present; strings are NUL-terminated; and the
 * bytes visited stay within twice the message size (aliased offsets).
 */
import { Abi } from '../abi/generated.js';
import { GuestProtocolError } from '../errors.js';
import type { CallResult } from './codec.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { ValueType } from './generated/hyperlight/wire/value-type.js';
import { decodeText } from './framing.js';
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
const OUTCOME_COUNT = 2;
/** Members of the `Value` union (tags 1..10). */
const VALUE_COUNT = ValueType.Void;

/** The type name of each `Value` tag, indexed by tag. */
const TYPE_NAMES = [undefined, 'i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'string', 'bool', 'bytes', 'void'] as const;
/** The member table of each `Value` tag, indexed by tag. */
const MEMBER_NAMES = [
  '', 'I32Value', 'U32Value', 'I64Value', 'U64Value', 'F32Value', 'F64Value', 'StringValue', 'BoolValue', 'BytesValue', 'VoidValue',
] as const;
/** Size of the `value` field of each member (4 for the uoffset of a string or vector; 0: none). */
const MEMBER_FIELD_SIZE = [0, 4, 4, 8, 8, 4, 8, 4, 1, 4, 0] as const;

/** Field paths as verifier.ts names them in its messages. */
const RETURN_VALUE_PATH = 'outcome<ReturnValue>';
const CALL_ERROR_PATH = 'outcome<CallError>';
const MEMBER_PATHS = MEMBER_NAMES.map((name) => `${RETURN_VALUE_PATH}.value<${name}>`);
const ERROR_CODE_RANGE = `${ErrorCode.FunctionNotFound}..${ErrorCode.MessageTooLarge}`;

/** A field the vtable omits. */
const ABSENT = -1;

/**
 * Decodes `FunctionCallResult` messages from one buffer (normally the guest
 * output buffer), reusing its views across calls. Not reentrant: one decode
 * at a time per decoder (decoding is synchronous, so that holds on one thread).
 */
export class ResultDecoder {
  private readonly view: DataView;
  /** Where the payload being decoded starts in `bytes`. */
  private base = 0;
  /** Its length. */
  private size = 0;
  /** Bytes of tables, strings and vectors that may still be visited. */
  private budget = 0;
  /** The table being read: its position, its vtable's position and sizes. */
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
  }

  /**
   * Reads the frame at the start of the buffer (as framing.ts `readFrame`)
   * and decodes its `FunctionCallResult` payload. Strings and byte arrays
   * are copied, so the result stays valid after the guest overwrites the buffer.
   * @param what - the message expected, for the frame errors (as `readFrame`)
   * @throws GuestProtocolError when the frame does not fit in the buffer or
   *   the message is malformed: exactly when `readFrame` + `decodeFunctionCallResult` throw.
   * @example
   * const decoder = new ResultDecoder(output);
   * const result = decoder.decodeFrame(); // after every HALT
   */
  decodeFrame(what = 'frame'): CallResult {
    const areaSize = this.bytes.byteLength;
    if (areaSize < Abi.FRAME_HEADER_SIZE) {
      throw new GuestProtocolError(`${what}: the ${areaSize}-byte buffer cannot hold a ${Abi.FRAME_HEADER_SIZE}-byte frame header`);
    }
    const length = this.view.getUint32(0, true);
    if (length > areaSize - Abi.FRAME_HEADER_SIZE) {
      throw new GuestProtocolError(
        `${what}: frame claims ${length} payload bytes but the ${areaSize}-byte buffer holds at most ${areaSize - Abi.FRAME_HEADER_SIZE}`,
      );
    }
    return this.decode(Abi.FRAME_HEADER_SIZE, length);
  }

  /**
   * Decodes the `FunctionCallResult` payload of `size` bytes at `start`; it
   * is aligned as if its frame header were the 4 bytes before `start`.
   * @throws GuestProtocolError when it is malformed (exactly when `decodeFunctionCallResult` throws).
   * @throws RangeError when `start` and `size` do not lie inside the buffer (a bug of the caller).
   */
  decode(start: number, size: number): CallResult {
    if (!(start >= 0 && size >= 0 && start + size <= this.bytes.byteLength)) {
      throw new RangeError(`payload [${start}, ${start + size}) is not inside the ${this.bytes.byteLength}-byte buffer`);
    }
    this.base = start;
    this.size = size;
    this.budget = size * VISITS_PER_BYTE;
    if (size > MAX_MESSAGE_SIZE) this.fail('', 0, `${size} bytes is more than the ${MAX_MESSAGE_SIZE}-byte limit`);
    this.block('', 0, OFFSET_SIZE, OFFSET_SIZE, 'root offset');

    this.table(this.follow(0), 'FunctionCallResult', '');
    const outcomeTypeAt = this.field(0, 1, 'outcome_type');
    const outcomeAt = this.field(1, OFFSET_SIZE, 'outcome');
    const outcome = this.unionTag(outcomeTypeAt, outcomeAt, OUTCOME_COUNT, 'outcome');
    if (outcomeAt === ABSENT) {
      this.fail('outcome', this.tablePos, `union type is ${outcome === OUTCOME_RETURN_VALUE ? 'ReturnValue' : 'CallError'} but the value is missing`);
    }
    const outcomePos = this.follow(outcomeAt);
    return outcome === OUTCOME_RETURN_VALUE ? this.returnValue(outcomePos) : this.callError(outcomePos);
  }

  private returnValue(pos: number): CallResult {
    this.table(pos, 'ReturnValue', RETURN_VALUE_PATH);
    const typeAt = this.field(0, 1, `${RETURN_VALUE_PATH}.value_type`);
    const valueAt = this.field(1, OFFSET_SIZE, `${RETURN_VALUE_PATH}.value`);
    const tag = this.unionTag(typeAt, valueAt, VALUE_COUNT, `${RETURN_VALUE_PATH}.value`);
    if (valueAt === ABSENT) {
      this.fail(`${RETURN_VALUE_PATH}.value`, this.tablePos, `union type is ${MEMBER_NAMES[tag]} but the value is missing`);
    }
    const path = MEMBER_PATHS[tag]!;
    this.table(this.follow(valueAt), MEMBER_NAMES[tag]!, path);
    const fieldSize = MEMBER_FIELD_SIZE[tag]!;
    const at = fieldSize === 0 ? ABSENT : this.field(0, fieldSize, `${path}.value`);
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
      case ValueType.String:
        if (at === ABSENT) this.fail(`${path}.value`, this.tablePos, 'required field is missing from StringValue');
        value = { type: 'string', value: this.string(this.follow(at), `${path}.value`) };
        break;
      case ValueType.Bytes: {
        if (at === ABSENT) this.fail(`${path}.value`, this.tablePos, 'required field is missing from BytesValue');
        value = { type: 'bytes', value: this.byteVector(this.follow(at), `${path}.value`) };
        break;
      }
      default:
        value = { type: TYPE_NAMES[ValueType.Void], value: undefined };
    }
    return { ok: true, value };
  }

  private callError(pos: number): CallResult {
    this.table(pos, 'CallError', CALL_ERROR_PATH);
    const codeAt = this.field(0, 4, `${CALL_ERROR_PATH}.code`);
    const code = codeAt === ABSENT ? ErrorCode.None : this.view.getUint32(this.base + codeAt, true);
    if (code < ErrorCode.FunctionNotFound || code > ErrorCode.MessageTooLarge) {
      const note = codeAt === ABSENT ? ' (absent, so the default)' : '';
      this.fail(`${CALL_ERROR_PATH}.code`, codeAt === ABSENT ? this.tablePos : codeAt, `ErrorCode ${code}${note} is not in ${ERROR_CODE_RANGE}`);
    }
    const messageAt = this.field(1, OFFSET_SIZE, `${CALL_ERROR_PATH}.message`);
    const message = messageAt === ABSENT ? '' : this.string(this.follow(messageAt), `${CALL_ERROR_PATH}.message`);
    return { ok: false, code: code as ErrorCode, message };
  }

  private fail(path: string, offset: number, problem: string): never {
    throw new GuestProtocolError(`malformed FunctionCallResult message: ${path || 'root table'} (offset ${offset}): ${problem}`);
  }

  /** Checks that `length` bytes at `pos` lie inside the message and `pos` is aligned to `align`. */
  private block(path: string, pos: number, length: number, align: number, what: string): void {
    if (pos < 0 || pos > this.size || length > this.size - pos) {
      this.fail(path, pos, `${what} (${length} bytes) runs past the end of the ${this.size}-byte message`);
    }
    if ((pos + Abi.FRAME_HEADER_SIZE) % align !== 0) this.fail(path, pos, `${what} is not ${align}-byte aligned`);
  }

  /** Spends `length` bytes of the visiting budget. */
  private charge(path: string, pos: number, length: number): void {
    this.budget -= length;
    if (this.budget < 0) this.fail(path, pos, 'the message references more data than it holds (aliased offsets)');
  }

  /** The position a uoffset at `pos` (already bounds-checked) points to. */
  private follow(pos: number): number {
    return pos + this.view.getUint32(this.base + pos, true);
  }

  /** Checks the table at `pos` and makes it the current table. */
  private table(pos: number, name: string, path: string): void {
    const view = this.view;
    const base = this.base;
    this.block(path, pos, OFFSET_SIZE, OFFSET_SIZE, `${name} table`);
    const vtable = pos - view.getInt32(base + pos, true);
    this.block(path, vtable, 4, 2, `vtable of ${name}`);
    const vtableSize = view.getUint16(base + vtable, true);
    const tableSize = view.getUint16(base + vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtableSize > MAX_VTABLE_ENTRY) {
      this.fail(path, vtable, `vtable of ${name} has invalid size ${vtableSize}`);
    }
    this.block(path, vtable, vtableSize, 2, `vtable of ${name}`);
    if (tableSize < OFFSET_SIZE) this.fail(path, vtable, `vtable of ${name} gives table size ${tableSize}`);
    this.block(path, pos, tableSize, OFFSET_SIZE, `${name} table`);
    this.charge(path, pos, tableSize);
    this.tablePos = pos;
    this.vtablePos = vtable;
    this.vtableSize = vtableSize;
    this.tableSize = tableSize;
  }

  /** The position of field `slot` (of `size` bytes) of the current table, or {@link ABSENT}. */
  private field(slot: number, size: number, path: string): number {
    const entry = 4 + 2 * slot;
    if (entry >= this.vtableSize) return ABSENT;
    const offset = this.view.getUint16(this.base + this.vtablePos + entry, true);
    if (offset === 0) return ABSENT;
    if (offset < OFFSET_SIZE || offset > MAX_VTABLE_ENTRY || offset + size > this.tableSize) {
      this.fail(path, this.tablePos, `field at table offset ${offset} (${size} bytes) lies outside the ${this.tableSize}-byte table`);
    }
    const at = this.tablePos + offset;
    if ((at + Abi.FRAME_HEADER_SIZE) % size !== 0) this.fail(path, at, `${size}-byte field is not aligned`);
    return at;
  }

  /**
   * The tag of a required union of `count` members whose fields are at
   * `typeAt` and `valueAt` (the caller checks that the value is present).
   */
  private unionTag(typeAt: number, valueAt: number, count: number, path: string): number {
    const tag = typeAt === ABSENT ? 0 : this.view.getUint8(this.base + typeAt);
    if (tag === 0) {
      if (valueAt !== ABSENT) this.fail(path, valueAt, 'union has a value but its type is NONE');
      this.fail(path, this.tablePos, 'required union is missing');
    }
    if (tag > count) this.fail(`${path}_type`, typeAt, `unknown union type ${tag} (known: 1..${count})`);
    return tag;
  }

  /** Checks the string at `pos` and decodes it (invalid UTF-8 replaced, as codec.ts). */
  private string(pos: number, path: string): string {
    this.block(path, pos, OFFSET_SIZE, OFFSET_SIZE, 'string length');
    const length = this.view.getUint32(this.base + pos, true);
    this.block(path, pos, OFFSET_SIZE + length + 1, 1, `string of ${length} bytes plus its NUL`);
    const start = this.base + pos + OFFSET_SIZE;
    if (this.bytes[start + length] !== 0) this.fail(path, pos, 'string is not NUL-terminated');
    this.charge(path, pos, OFFSET_SIZE + length + 1);
    return decodeText(this.bytes.subarray(start, start + length));
  }

  /** Checks the `[ubyte]` vector at `pos` and copies it out. */
  private byteVector(pos: number, path: string): Uint8Array {
    this.block(path, pos, OFFSET_SIZE, OFFSET_SIZE, 'vector length');
    const count = this.view.getUint32(this.base + pos, true);
    this.block(path, pos + OFFSET_SIZE, count, 1, `vector of ${count} × 1-byte elements`);
    this.charge(path, pos, OFFSET_SIZE + count);
    const start = this.base + pos + OFFSET_SIZE;
    return this.bytes.slice(start, start + count);
  }
}

/**
 * Decodes a `FunctionCallResult` payload (what `readFrame` returns): a
 * drop-in for codec.ts `decodeFunctionCallResult` with the same results and
 * errors. For repeated decoding from one buffer keep a {@link ResultDecoder}.
 * @throws GuestProtocolError when it is malformed.
 */
export function decodeResultPayload(payload: Uint8Array): CallResult {
  return new ResultDecoder(payload).decode(0, payload.byteLength);
}
