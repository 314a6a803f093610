/**
 * A `FunctionCall` encoder for the host's hot path: it writes the frame
 * straight into the guest input buffer, with no builder, no scratch buffer
 * and no allocation per call.
 *
 * Everything that depends only on the function — its name, its parameter
 * types and its return type — is laid out once, in a {@link CallPlan}, as a
 * byte template. A call copies the template, stores each scalar argument at
 * the position the plan reserved for it and appends the strings and byte
 * arrays after it:
 *
 * ```
 * frame offset 0   u32 payload length        (the frame header, framing.ts)
 *              4   u32 root offset           ─┐
 *              8   vtables, each written once │ constant per function:
 *                  FunctionCall table         │ the plan's template
 *                  arguments vector           │
 *                  Argument + *Value tables   │
 *                  function_name string      ─┘
 *   fixedSize      string / byte-vector data, in argument order (per call)
 * ```
 *
 * The result is an ordinary size-prefixed flatbuffer: every uoffset points
 * forward (variable data comes last, so no constant offset depends on a
 * string's length), every vtable precedes its tables (positive soffset),
 * tables of one shape share one vtable, and every scalar is aligned to its
 * size relative to the frame start, as verifier.ts demands. The generated
 * readers and the guests' readers accept it (see the tests). Values are
 * written as frame-writer.ts says.
 */
import { Abi } from '../abi/generated.js';
import { align, dataEnd, FIELD_SIZE, FrameWriter, matches, OFFSET_SIZE, VALUE_FIELD, type ValueShape } from './frame-writer.js';
import { checkValue, toWireValueType, VALUE_TYPES, type TypedValue, type ValueTypeName } from './values.js';
import type { ValueType } from './generated/hyperlight/wire/value-type.js';

/** Frame header plus the root uoffset: where the first vtable goes. */
const HEADER_SIZE = Abi.FRAME_HEADER_SIZE + OFFSET_SIZE;

/** FunctionCall table: soffset, function_name @4, arguments @8, return_type @12. */
const CALL_TABLE = { size: 13, name: 4, args: 8, returnType: 12 } as const;
/** Argument table: soffset, value @4 (uoffset), value_type @8 (u8). */
const ARGUMENT_TABLE = { size: 9, value: 4, valueType: 8 } as const;

/** The order shared vtables are laid out in. */
const SHAPES: readonly ValueShape[] = [4, 8, 1, 0];

/**
 * One function's call, laid out once: the bytes that are the same for every
 * call of it, and where each argument goes. Make one with {@link planCall}
 * and keep it with the function (a plan is not tied to a buffer; do not change its arrays).
 */
export class CallPlan {
  /** The wire `ValueType` of each parameter. */
  readonly kinds: Uint8Array;
  /** Per parameter: where its scalar value, or the uoffset to its string/vector data, sits in the frame. */
  readonly valueAt: Int32Array;
  /** The constant part of the frame (header and payload up to `fixedSize`); the frame header is left 0. */
  readonly template: Uint8Array;

  /**
   * Prefer {@link planCall}, which copies `parameters`.
   * @throws TypeError for a name that is not a value type.
   */
  constructor(
    readonly functionName: string,
    readonly parameters: readonly ValueTypeName[],
    readonly returnType: ValueTypeName,
  ) {
    const kinds = parameters.map((type, index) => wireType(type, `parameter ${index} of "${functionName}"`));
    this.kinds = Uint8Array.from(kinds);
    this.valueAt = new Int32Array(kinds.length);
    this.template = layOut(Buffer.from(functionName, 'utf8'), kinds, wireType(returnType, 'return type'), this.valueAt);
  }

  /**
   * Size of the constant part of the frame, header included: the whole frame
   * when no parameter is a string or byte array.
   * @throws never
   */
  get fixedSize(): number {
    return this.template.byteLength;
  }
}

/**
 * Lays out a function's call once (see the file comment).
 * @param functionName - the guest function's name (unpaired surrogates become U+FFFD)
 * @param parameters - its parameter types, in order
 * @param returnType - the return type the call expects
 * @throws TypeError for a name that is not a value type.
 * @example
 * const plan = planCall('Add', ['i32', 'i32'], 'i32');
 * const length = encoder.encode(plan, [1, 2]);
 */
export function planCall(functionName: string, parameters: readonly ValueTypeName[], returnType: ValueTypeName): CallPlan {
  return new CallPlan(functionName, [...parameters], returnType);
}

/** The wire number of a type name from host code; throws TypeError for a name that is not one. */
function wireType(type: ValueTypeName, what: string): ValueType {
  if (!VALUE_TYPES.includes(type)) throw new TypeError(`${what}: unknown value type ${JSON.stringify(String(type))}`);
  return toWireValueType(type);
}

/**
 * Builds the template of a call and fills `valueAt`. Positions are frame
 * offsets; alignment is relative to the frame start, as for any
 * size-prefixed flatbuffer.
 */
function layOut(name: Uint8Array, kinds: readonly ValueType[], returnType: ValueType, valueAt: Int32Array): Uint8Array {
  // Pass 1: positions.
  let pos = HEADER_SIZE;
  const callVtable = pos;
  pos += 4 + 2 * 3;
  const argumentVtable = pos;
  if (kinds.length > 0) pos += 4 + 2 * 2;
  const shapeVtable = new Map<ValueShape, number>();
  for (const shape of SHAPES) {
    if (!kinds.some((kind) => FIELD_SIZE[kind] === shape)) continue;
    shapeVtable.set(shape, pos);
    pos += shape === 0 ? 4 : 4 + 2;
  }
  const root = (pos = align(pos, 4));
  pos += CALL_TABLE.size;
  const vector = (pos = align(pos, 4));
  pos += OFFSET_SIZE * (1 + kinds.length);
  const argumentAt: number[] = [];
  const valueTableAt: number[] = [];
  for (const kind of kinds) {
    argumentAt.push((pos = align(pos, 4)));
    pos += ARGUMENT_TABLE.size;
    pos = align(pos, 4);
    // An 8-byte field right after the 4-byte soffset is 8-aligned when the table is 4 mod 8.
    if (FIELD_SIZE[kind] === 8 && pos % 8 === 0) pos += 4;
    valueTableAt.push(pos);
    pos += 4 + FIELD_SIZE[kind];
  }
  const nameAt = (pos = align(pos, 4));
  pos += OFFSET_SIZE + name.byteLength + 1;

  // Pass 2: bytes.
  const bytes = new Uint8Array(pos);
  const view = new DataView(bytes.buffer);
  const u16 = (at: number, ...values: number[]): void => values.forEach((value, i) => view.setUint16(at + 2 * i, value, true));
  const u32 = (at: number, value: number): void => view.setUint32(at, value, true);
  /** Stores at `at` the uoffset to `target` (always forward). */
  const uoffset = (at: number, target: number): void => u32(at, target - at);

  uoffset(Abi.FRAME_HEADER_SIZE, root);
  u16(callVtable, 4 + 2 * 3, CALL_TABLE.size, CALL_TABLE.name, CALL_TABLE.args, CALL_TABLE.returnType);
  if (kinds.length > 0) u16(argumentVtable, 4 + 2 * 2, ARGUMENT_TABLE.size, ARGUMENT_TABLE.valueType, ARGUMENT_TABLE.value);
  for (const [shape, at] of shapeVtable) {
    if (shape === 0) u16(at, 4, 4);
    else u16(at, 4 + 2, 4 + shape, VALUE_FIELD);
  }

  view.setInt32(root, root - callVtable, true);
  uoffset(root + CALL_TABLE.name, nameAt);
  uoffset(root + CALL_TABLE.args, vector);
  view.setUint8(root + CALL_TABLE.returnType, returnType);

  u32(vector, kinds.length);
  kinds.forEach((kind, i) => {
    const argument = argumentAt[i]!;
    const value = valueTableAt[i]!;
    uoffset(vector + OFFSET_SIZE * (1 + i), argument);
    view.setInt32(argument, argument - argumentVtable, true);
    uoffset(argument + ARGUMENT_TABLE.value, value);
    view.setUint8(argument + ARGUMENT_TABLE.valueType, kind);
    view.setInt32(value, value - shapeVtable.get(FIELD_SIZE[kind])!, true);
    valueAt[i] = value + VALUE_FIELD;
  });

  u32(nameAt, name.byteLength);
  bytes.set(name, nameAt + OFFSET_SIZE);
  return bytes;
}

/**
 * Writes `FunctionCall` frames into one buffer (normally the guest input
 * buffer), reusing its views across calls.
 */
export class CallEncoder extends FrameWriter {
  /**
   * Writes the frame of a call of `plan`'s function with `args` at the start
   * of the area.
   * @param args - one value per parameter, each of the JavaScript type its
   *   parameter type takes (see `checkValue`; callers normally check first)
   * @returns the payload length (the frame is 4 bytes longer); or, when the
   *   frame does not fit, the negated frame size it needs (the area's contents
   *   are then unchanged).
   * @throws TypeError when the argument count differs from the plan or an
   *   argument does not match its parameter type.
   * @example
   * const length = encoder.encode(plan, args);
   * if (length < 0) throw new MessageTooLargeError(`call of "${name}"`, -length, input.byteLength, 'inputSize');
   */
  encode(plan: CallPlan, args: ArrayLike<unknown>): number {
    const { kinds, valueAt } = plan;
    const count = kinds.length;
    if (args.length !== count) {
      throw new TypeError(`call of "${plan.functionName}": ${count} argument(s) expected, ${args.length} given`);
    }
    const area = this.area;
    let end = plan.template.byteLength;
    for (let i = 0; i < count; i++) {
      const value = args[i];
      if (!matches(kinds[i]!, value)) throw argumentError(plan, i, value);
      end = dataEnd(value, end);
      // Bytes that live in the area itself would be overwritten by the template before they are copied.
      if (value instanceof Uint8Array && value.buffer === area.buffer) {
        return this.encode(plan, Array.from(args, (arg) => (arg === value ? value.slice() : arg)));
      }
    }
    if (end > area.byteLength) {
      end = plan.template.byteLength;
      for (let i = 0; i < count; i++) end = dataEnd(args[i], end, true);
      if (end > area.byteLength) return -end;
    }

    area.set(plan.template);
    end = plan.template.byteLength;
    for (let i = 0; i < count; i++) end = this.writeValue(kinds[i]!, args[i], valueAt[i]!, end);
    const payloadLength = end - Abi.FRAME_HEADER_SIZE;
    this.view.setUint32(0, payloadLength, true);
    return payloadLength;
  }
}

function argumentError(plan: CallPlan, index: number, value: unknown): TypeError {
  const type = plan.parameters[index]!;
  return new TypeError(`argument ${index}: cannot encode as ${type}: ${checkValue(type, value) ?? 'unexpected value'}`);
}

/**
 * Encodes `call` into the frame at the start of `area` (plans it on the spot;
 * for repeated calls keep a {@link CallPlan} and a {@link CallEncoder}).
 * @returns as {@link CallEncoder.encode}
 * @throws TypeError when an argument does not match its declared type or a type name is unknown.
 * @example
 * const length = encodeCallInto(input, { functionName: 'Add', args: [{ type: 'i32', value: 1 }], returnType: 'i32' });
 */
export function encodeCallInto(area: Uint8Array, call: { readonly functionName: string; readonly args: readonly TypedValue[]; readonly returnType: ValueTypeName }): number {
  const plan = planCall(call.functionName, call.args.map((arg) => arg.type), call.returnType);
  return new CallEncoder(area).encode(plan, call.args.map((arg) => arg.value));
}
