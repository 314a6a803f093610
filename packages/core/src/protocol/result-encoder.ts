/**
 * A `FunctionCallResult` encoder for the host side of a host call: it writes
 * the host's reply straight into the guest input buffer, from a template per
 * value type (frame-writer.ts says how values go in), with no builder and no
 * scratch buffer.
 *
 * ```
 * frame offset 0   u32 payload length
 *              4   u32 root offset
 *              8   vtable shared by FunctionCallResult and ReturnValue
 *                  (both hold a union: a u8 tag and a uoffset)
 *             16   vtable of the *Value table (or of CallError)
 *                  FunctionCallResult table
 *                  ReturnValue table, *Value table (or CallError table)
 *   fixedSize      string / byte-vector data (a CallError's message)
 * ```
 *
 * Like call-encoder.ts's frames: an ordinary size-prefixed flatbuffer with
 * forward uoffsets, vtables before their tables and every scalar aligned to
 * its size relative to the frame start. The generated readers and the
 * guests' readers accept it (see the tests).
 */
import { Abi } from '../abi/generated.js';
import type { CallResult } from './codec.js';
import { align, dataEnd, FIELD_SIZE, FrameWriter, matches, OFFSET_SIZE, VALUE_FIELD } from './frame-writer.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { ValueType } from './generated/hyperlight/wire/value-type.js';
import { checkValue, toWireValueType, VALUE_TYPES } from './values.js';

/** A union holder (`FunctionCallResult`, `ReturnValue`): soffset, value @4 (uoffset), tag @8 (u8). */
const UNION_TABLE = { size: 9, value: 4, tag: 8 } as const;
/** `CallError`: soffset, code @4 (u32), message @8 (uoffset). */
const ERROR_TABLE = { size: 12, code: 4, message: 8 } as const;
/** `Outcome` union tags (schema/function_call_result.fbs). */
const OUTCOME_RETURN_VALUE = 1;
const OUTCOME_CALL_ERROR = 2;
/** Where the two vtables go: right after the frame header and the root uoffset. */
const UNION_VTABLE = Abi.FRAME_HEADER_SIZE + OFFSET_SIZE;
const MEMBER_VTABLE = UNION_VTABLE + 8;

/** One outcome's frame, laid out once: its constant bytes, and where its value (or the error's code and message) goes. */
interface ResultTemplate {
  /** The frame up to its variable data; the frame header is left 0. */
  readonly bytes: Uint8Array;
  /** The scalar, or the uoffset to the string or vector data: of the `*Value` table, or the `CallError`'s message. */
  readonly valueAt: number;
}

/**
 * Lays out a frame whose root (a `FunctionCallResult`) holds `outcome`, a
 * table of `memberSize` bytes after a `ReturnValue` holding a `*Value` of
 * `tag` (for a return value) or directly (for a `CallError`).
 */
function layOut(outcome: number, tag: ValueType | undefined, memberVtable: readonly number[], memberSize: number, fieldSize: number): ResultTemplate & { member: number } {
  let pos = MEMBER_VTABLE + 2 * memberVtable.length;
  const root = (pos = align(pos, 4));
  pos += UNION_TABLE.size;
  const returnValue = tag === undefined ? -1 : (pos = align(pos, 4));
  if (tag !== undefined) pos += UNION_TABLE.size;
  let member = (pos = align(pos, 4));
  // An 8-byte field right after the 4-byte soffset is 8-aligned when the table is 4 mod 8.
  if (fieldSize === 8 && member % 8 === 0) member = pos += 4;
  pos += memberSize;

  const bytes = new Uint8Array(pos);
  const view = new DataView(bytes.buffer);
  /** Stores at `at` the uoffset to `target` (always forward). */
  const uoffset = (at: number, target: number): void => view.setUint32(at, target - at, true);
  uoffset(Abi.FRAME_HEADER_SIZE, root);
  [4 + 2 * 2, UNION_TABLE.size, UNION_TABLE.tag, UNION_TABLE.value].forEach((entry, i) => view.setUint16(UNION_VTABLE + 2 * i, entry, true));
  memberVtable.forEach((entry, i) => view.setUint16(MEMBER_VTABLE + 2 * i, entry, true));
  view.setInt32(root, root - UNION_VTABLE, true);
  view.setUint8(root + UNION_TABLE.tag, outcome);
  if (tag === undefined) {
    uoffset(root + UNION_TABLE.value, member);
  } else {
    uoffset(root + UNION_TABLE.value, returnValue);
    view.setInt32(returnValue, returnValue - UNION_VTABLE, true);
    view.setUint8(returnValue + UNION_TABLE.tag, tag);
    uoffset(returnValue + UNION_TABLE.value, member);
  }
  view.setInt32(member, member - MEMBER_VTABLE, true);
  return { bytes, valueAt: member + VALUE_FIELD, member };
}

/** The template of a return value of each wire type, by its `ValueType` number. */
const VALUE_TEMPLATES: readonly ResultTemplate[] = VALUE_TYPES.map((type) => {
  const tag = toWireValueType(type);
  const fieldSize = FIELD_SIZE[tag];
  const vtable = fieldSize === 0 ? [4, 4] : [4 + 2, 4 + fieldSize, VALUE_FIELD];
  return layOut(OUTCOME_RETURN_VALUE, tag, vtable, 4 + fieldSize, fieldSize);
});

/** The template of a `CallError`: its code and message go in per reply. */
const ERROR_TEMPLATE: ResultTemplate & { readonly codeAt: number } = (() => {
  const { bytes, member } = layOut(OUTCOME_CALL_ERROR, undefined, [4 + 2 * 2, ERROR_TABLE.size, ERROR_TABLE.code, ERROR_TABLE.message], ERROR_TABLE.size, 4);
  return { bytes, valueAt: member + ERROR_TABLE.message, codeAt: member + ERROR_TABLE.code };
})();

/**
 * Writes `FunctionCallResult` frames into one buffer (normally the guest
 * input buffer), reusing its views across replies.
 */
export class ResultEncoder extends FrameWriter {
  /**
   * Writes `result` as the frame at the start of the area.
   * @returns the payload length (the frame is 4 bytes longer); or, when the
   *   frame does not fit, the negated frame size it needs (the area's
   *   contents are then unchanged).
   * @throws TypeError when the value does not match its type, or the type or error code is unknown.
   * @example
   * const length = encoder.encode({ ok: true, value: { type: 'i32', value: 3 } });
   * if (length < 0) throw new MessageTooLargeError('reply', -length, encoder.capacityBytes, 'inputSize');
   */
  encode(result: CallResult): number {
    let template: ResultTemplate | undefined;
    let kind: number;
    let value: unknown;
    if (result.ok) {
      kind = VALUE_TYPES.includes(result.value.type) ? toWireValueType(result.value.type) : ValueType.None;
      value = result.value.value;
      template = VALUE_TEMPLATES[kind - 1];
      if (!template || !matches(kind, value)) {
        throw new TypeError(`return value: cannot encode as ${String(result.value.type)}: ${checkValue(result.value.type, value) ?? 'unexpected value'}`);
      }
    } else {
      if (!(result.code >= ErrorCode.FunctionNotFound && result.code <= ErrorCode.MessageTooLarge)) throw new TypeError(`error code ${result.code} is unknown`);
      if (typeof result.message !== 'string') throw new TypeError('the error message must be a string');
      template = ERROR_TEMPLATE;
      kind = ValueType.String;
      value = result.message;
    }
    const area = this.area;
    // Bytes that live in the area itself would be overwritten by the template before they are copied.
    if (value instanceof Uint8Array && value.buffer === area.buffer) value = value.slice();
    const fixedSize = template.bytes.byteLength;
    let end = dataEnd(value, fixedSize);
    if (end > area.byteLength && (end = dataEnd(value, fixedSize, true)) > area.byteLength) return -end;

    area.set(template.bytes);
    if (!result.ok) this.view.setUint32(ERROR_TEMPLATE.codeAt, result.code, true);
    end = this.writeValue(kind, value, template.valueAt, fixedSize);
    const payloadLength = end - Abi.FRAME_HEADER_SIZE;
    this.view.setUint32(0, payloadLength, true);
    return payloadLength;
  }
}
