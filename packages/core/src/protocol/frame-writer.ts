/**
 * What the host's in-place encoders share: writing a value into a frame in
 * the guest input buffer, laid out from a template, with no builder and no
 * scratch buffer. call-encoder.ts (`FunctionCall`, every call) and
 * result-encoder.ts (`FunctionCallResult`, the reply to each host call)
 * build on it.
 *
 * A template holds everything constant; each value then goes where its
 * template reserved room for it: a scalar in its `*Value` table, a string or
 * byte array as a uoffset there to its data, appended after the template in
 * value order at the next 4-byte boundary (every uoffset points forward, so
 * no constant offset depends on a string's length). Alignment is relative to
 * the frame start, as for any size-prefixed flatbuffer.
 *
 * Strings are written with `Buffer#write`, whose UTF-8 conversion replaces
 * unpaired surrogates with U+FFFD exactly as `TextEncoder` (and so the
 * generated builder) does.
 */
import { ValueType } from './generated/hyperlight/wire/value-type.js';

/** Size of a uoffset, soffset or vector/string length. */
export const OFFSET_SIZE = 4;
/** Every `*Value` table keeps its one field (if any) right after the soffset. */
export const VALUE_FIELD = 4;

/** The shapes `*Value` tables come in, by the size of their one field (0: `VoidValue`, no field). */
export type ValueShape = 0 | 1 | 4 | 8;

/** Size of the `value` field of each member of the `Value` union (a string or vector is a 4-byte uoffset). */
export const FIELD_SIZE: Readonly<Record<ValueType, ValueShape>> = {
  [ValueType.None]: 0,
  [ValueType.I32]: 4,
  [ValueType.U32]: 4,
  [ValueType.I64]: 8,
  [ValueType.U64]: 8,
  [ValueType.F32]: 4,
  [ValueType.F64]: 8,
  [ValueType.String]: 4,
  [ValueType.Bool]: 1,
  [ValueType.Bytes]: 4,
  [ValueType.Void]: 0,
};

/** Strings up to this many UTF-16 units are copied by a JavaScript loop when ASCII; longer ones by `Buffer#write`. */
const SHORT_STRING_LENGTH = 16;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/**
 * `pos` rounded up to a multiple of `to` (a power of two).
 * @throws never
 */
export const align = (pos: number, to: number): number => (pos + to - 1) & ~(to - 1);

/**
 * Where the data of `value` ends when appended at `end`: `end` itself for a
 * scalar; for a string an upper bound (3 UTF-8 bytes per UTF-16 unit) unless
 * `exact`.
 * @throws never
 */
export function dataEnd(value: unknown, end: number, exact = false): number {
  if (typeof value === 'string') return align(end, 4) + OFFSET_SIZE + (exact ? Buffer.byteLength(value, 'utf8') : 3 * value.length) + 1;
  if (value instanceof Uint8Array) return align(end, 4) + OFFSET_SIZE + value.byteLength;
  return end;
}

/**
 * Whether `value` can be written as the wire type `kind` (the same rules as `checkValue`).
 * @throws never
 */
export function matches(kind: number, value: unknown): boolean {
  switch (kind) {
    case ValueType.I32: return typeof value === 'number' && (value | 0) === value;
    case ValueType.U32: return typeof value === 'number' && value >>> 0 === value;
    case ValueType.I64: return typeof value === 'bigint' && value >= I64_MIN && value <= I64_MAX;
    case ValueType.U64: return typeof value === 'bigint' && value >= 0n && value <= U64_MAX;
    case ValueType.F32:
    case ValueType.F64: return typeof value === 'number';
    case ValueType.String: return typeof value === 'string';
    case ValueType.Bool: return typeof value === 'boolean';
    case ValueType.Bytes: return value instanceof Uint8Array;
    default: return value === undefined;
  }
}

/** Writes frames into one buffer (normally the guest input buffer), reusing its views. */
export abstract class FrameWriter {
  protected readonly view: DataView;
  /** The same memory as `area`, for `Buffer#write`. */
  private readonly text: Buffer;

  /**
   * @param area - the buffer the frame goes to, at offset 0
   * @throws never
   */
  constructor(protected readonly area: Uint8Array) {
    this.view = new DataView(area.buffer, area.byteOffset, area.byteLength);
    this.text = Buffer.from(area.buffer, area.byteOffset, area.byteLength);
  }

  /** The size of the buffer, in bytes. */
  get capacityBytes(): number {
    return this.area.byteLength;
  }

  /**
   * Stores `value` (which {@link matches} `kind`) at `at`, where its template
   * reserved its field: the scalar itself, or the uoffset to its data, which
   * goes at the next 4-byte boundary from `end` (the caller has made room).
   * @returns where the frame now ends
   */
  protected writeValue(kind: number, value: unknown, at: number, end: number): number {
    const view = this.view;
    switch (kind) {
      case ValueType.I32: view.setInt32(at, value as number, true); return end;
      case ValueType.U32: view.setUint32(at, value as number, true); return end;
      case ValueType.I64: view.setBigInt64(at, value as bigint, true); return end;
      case ValueType.U64: view.setBigUint64(at, value as bigint, true); return end;
      case ValueType.F32: view.setFloat32(at, value as number, true); return end;
      case ValueType.F64: view.setFloat64(at, value as number, true); return end;
      case ValueType.Bool: view.setUint8(at, value ? 1 : 0); return end;
      case ValueType.String: {
        const data = this.pad(end);
        view.setUint32(at, data - at, true);
        const length = this.writeString(value as string, data + OFFSET_SIZE);
        view.setUint32(data, length, true);
        this.area[data + OFFSET_SIZE + length] = 0;
        return data + OFFSET_SIZE + length + 1;
      }
      case ValueType.Bytes: {
        const data = this.pad(end);
        const bytes = value as Uint8Array;
        view.setUint32(at, data - at, true);
        view.setUint32(data, bytes.byteLength, true);
        this.area.set(bytes, data + OFFSET_SIZE);
        return data + OFFSET_SIZE + bytes.byteLength;
      }
      default: // Void: the table has no field.
        return end;
    }
  }

  /** Zeroes the bytes from `end` to the next 4-byte boundary (so no stale byte goes out) and returns that boundary. */
  private pad(end: number): number {
    const area = this.area;
    for (; end % 4 !== 0; end++) area[end] = 0;
    return end;
  }

  /** Writes `value` as UTF-8 at `at` (the caller has made room) and returns its byte length. */
  private writeString(value: string, at: number): number {
    const length = value.length;
    if (length <= SHORT_STRING_LENGTH) {
      const area = this.area;
      let i = 0;
      for (; i < length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) break;
        area[at + i] = unit;
      }
      if (i === length) return length;
    }
    return this.text.write(value, at, this.area.byteLength - at, 'utf8');
  }
}
