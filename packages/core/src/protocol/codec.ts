/**
 * Encoders and decoders of the wire messages (schema/*.fbs, docs/abi.md).
 *
 * Frame/payload split: every function here speaks **payloads**. An encoder
 * builds a size-prefixed flatbuffer (so its alignment is right for a buffer
 * that starts at the frame) and returns it without the 4-byte prefix;
 * `writeFrame` (framing.ts) writes the prefix back, so the frame in guest
 * memory is exactly the standard size-prefixed flatbuffer. A decoder takes
 * what `readFrame` returns.
 *
 * Decoders verify before they read (verifier.ts) and copy everything they
 * return, so the result stays valid after the guest overwrites its buffers.
 */
import * as flatbuffers from 'flatbuffers';
import { Abi } from '../abi/generated.js';
import { GuestProtocolError } from '../errors.js';
import { Argument } from './generated/hyperlight/wire/argument.js';
import { BoolValue } from './generated/hyperlight/wire/bool-value.js';
import { BytesValue } from './generated/hyperlight/wire/bytes-value.js';
import { CallError } from './generated/hyperlight/wire/call-error.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { F32Value } from './generated/hyperlight/wire/f32value.js';
import { F64Value } from './generated/hyperlight/wire/f64value.js';
import { FunctionCall } from './generated/hyperlight/wire/function-call.js';
import { FunctionCallResult } from './generated/hyperlight/wire/function-call-result.js';
import { FunctionSignature } from './generated/hyperlight/wire/function-signature.js';
import { GuestFunctionDetails } from './generated/hyperlight/wire/guest-function-details.js';
import { I32Value } from './generated/hyperlight/wire/i32value.js';
import { I64Value } from './generated/hyperlight/wire/i64value.js';
import { LogLevel } from './generated/hyperlight/wire/log-level.js';
import { LogRecord as WireLogRecord } from './generated/hyperlight/wire/log-record.js';
import { Outcome } from './generated/hyperlight/wire/outcome.js';
import { ReturnValue } from './generated/hyperlight/wire/return-value.js';
import { StringValue } from './generated/hyperlight/wire/string-value.js';
import { U32Value } from './generated/hyperlight/wire/u32value.js';
import { U64Value } from './generated/hyperlight/wire/u64value.js';
import type { ValueType } from './generated/hyperlight/wire/value-type.js';
import { VoidValue } from './generated/hyperlight/wire/void-value.js';
import { decodeText } from './framing.js';
import { checkValue, fromWireValueType, toWireValueType, VALUE_TYPES, type TypedValue, type ValueOf, type ValueTypeName } from './values.js';
import { MESSAGE_SCHEMAS, verifyMessage } from './verifier.js';

export { ErrorCode, LogLevel };

/** A call of a guest function (host → guest) or of a host function (guest → host). */
export interface FunctionCallMessage {
  readonly functionName: string;
  readonly args: readonly TypedValue[];
  /** The return type the caller expects; the callee checks it. */
  readonly returnType: ValueTypeName;
}

/** The answer to a {@link FunctionCallMessage}: a value, or why the call failed. */
export type CallResult =
  | { readonly ok: true; readonly value: TypedValue }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** One function as the guest declares it at initialisation. */
export interface GuestFunctionSignature {
  readonly name: string;
  readonly parameters: readonly ValueTypeName[];
  readonly returnType: ValueTypeName;
}

/** One guest log record. Absent strings decode as `''`. */
export interface LogRecord {
  /** Severity; decoding clamps anything above `Critical` (including `Off`) to `Critical`. */
  readonly level: LogLevel;
  readonly message: string;
  readonly target: string;
  readonly sourceFile: string;
  readonly line: number;
}

/** Decodes a string read with `Encoding.UTF8_BYTES`; absent is `''`. (The generated decoder would drop a leading U+FEFF.) */
function text(utf8: string | Uint8Array | null): string {
  return utf8 === null ? '' : decodeText(utf8 as Uint8Array);
}

const UTF8_BYTES = flatbuffers.Encoding.UTF8_BYTES;

/** Reads the member table of a `Value` union through a generated accessor such as `Argument.value`. */
type UnionAccessor = (table: object) => unknown;

/** How one value type maps to its `Value` union member table. */
interface ValueCodec<T extends ValueTypeName> {
  write(builder: flatbuffers.Builder, value: ValueOf<T>): flatbuffers.Offset;
  read(union: UnionAccessor): ValueOf<T>;
}

function member<T extends ValueTypeName, M extends object>(
  Table: new () => M,
  write: (builder: flatbuffers.Builder, value: ValueOf<T>) => flatbuffers.Offset,
  read: (table: M) => ValueOf<T>,
): ValueCodec<T> {
  return { write, read: (union) => read(union(new Table()) as M) };
}

/**
 * The one table from value types to union members. The union tag of each
 * member equals the `ValueType` number, so `toWireValueType` gives both.
 * `BytesValue.value` is required, so the verifier has checked it is present.
 */
const VALUE_CODECS: { readonly [T in ValueTypeName]: ValueCodec<T> } = {
  i32: member(I32Value, (b, v) => I32Value.createI32Value(b, v), (t) => t.value()),
  u32: member(U32Value, (b, v) => U32Value.createU32Value(b, v), (t) => t.value()),
  i64: member(I64Value, (b, v) => I64Value.createI64Value(b, v), (t) => t.value()),
  u64: member(U64Value, (b, v) => U64Value.createU64Value(b, v), (t) => t.value()),
  f32: member(F32Value, (b, v) => F32Value.createF32Value(b, v), (t) => t.value()),
  f64: member(F64Value, (b, v) => F64Value.createF64Value(b, v), (t) => t.value()),
  string: member(StringValue, (b, v) => StringValue.createStringValue(b, b.createString(v)), (t) => text(t.value(UTF8_BYTES))),
  bool: member(BoolValue, (b, v) => BoolValue.createBoolValue(b, v), (t) => t.value()),
  // slice(): a copy, not a view of guest memory.
  bytes: member(BytesValue, (b, v) => BytesValue.createBytesValue(b, b.createByteVector(v)), (t) => t.valueArray()!.slice()),
  void: member(VoidValue, (b) => VoidValue.createVoidValue(b), () => undefined),
};

/** A builder that stores every scalar, even one equal to its default (so -0.0 survives). */
function newBuilder(): flatbuffers.Builder {
  const builder = new flatbuffers.Builder(256);
  builder.forceDefaults(true);
  return builder;
}

/** Finishes a size-prefixed buffer and returns it without the prefix (see the file comment). */
function finishPayload(builder: flatbuffers.Builder, root: flatbuffers.Offset): Uint8Array {
  builder.finish(root, undefined, true);
  return builder.asUint8Array().subarray(Abi.FRAME_HEADER_SIZE);
}

/** The wire number of a type name from host code; throws TypeError for a name that is not one. */
function wireType(type: ValueTypeName, what: string): ValueType {
  if (!VALUE_TYPES.includes(type)) throw new TypeError(`${what}: unknown value type ${JSON.stringify(String(type))}`);
  return toWireValueType(type);
}

/** The type name of a verified wire number. */
function typeName(wire: number): ValueTypeName {
  const name = fromWireValueType(wire);
  // The verifier range-checks every ValueType and union tag, so this cannot happen.
  if (name === undefined) throw new GuestProtocolError(`value type ${wire} is not valid`);
  return name;
}

/** Builds the union member for `value`, after checking it matches its type. */
function writeValue(builder: flatbuffers.Builder, value: TypedValue, what: string): [tag: number, offset: flatbuffers.Offset] {
  const problem = checkValue(value.type, value.value);
  if (problem !== undefined) throw new TypeError(`${what}: cannot encode as ${String(value.type)}: ${problem}`);
  return [toWireValueType(value.type), encodeMember(builder, value.type, value.value)];
}

function encodeMember<T extends ValueTypeName>(builder: flatbuffers.Builder, type: T, value: ValueOf<T>): flatbuffers.Offset {
  return VALUE_CODECS[type].write(builder, value);
}

function readValue(tag: number, union: UnionAccessor): TypedValue {
  const type = typeName(tag);
  return { type, value: VALUE_CODECS[type].read(union) } as TypedValue;
}

/** Reads a verified root table of `payload`. */
function root<T>(payload: Uint8Array, getRoot: (bb: flatbuffers.ByteBuffer) => T): T {
  return getRoot(new flatbuffers.ByteBuffer(payload));
}

/**
 * Encodes a `FunctionCall` payload.
 * @throws TypeError when an argument does not match its declared type or a type name is unknown
 *   (callers check with `checkValue` first).
 * @example
 * writeFrame(input, encodeFunctionCall({ functionName: 'Add', args: [{ type: 'i32', value: 1 }], returnType: 'i32' }), 'call of "Add"', 'inputSize');
 */
export function encodeFunctionCall(call: FunctionCallMessage): Uint8Array {
  const builder = newBuilder();
  const name = builder.createString(call.functionName);
  const args = call.args.map((arg, index) => Argument.createArgument(builder, ...writeValue(builder, arg, `argument ${index}`)));
  const argsVector = FunctionCall.createArgumentsVector(builder, args);
  const returnType = wireType(call.returnType, 'return type');
  return finishPayload(builder, FunctionCall.createFunctionCall(builder, name, argsVector, returnType));
}

/**
 * Decodes a `FunctionCall` payload from the guest.
 * @throws GuestProtocolError when it is malformed (including a return type of `None`).
 */
export function decodeFunctionCall(payload: Uint8Array): FunctionCallMessage {
  verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCall);
  const call = root(payload, FunctionCall.getRootAsFunctionCall);
  const args = Array.from({ length: call.argumentsLength() }, (_, index) => {
    const arg = call.arguments_(index)!;
    return readValue(arg.valueType(), (table) => arg.value(table));
  });
  return { functionName: text(call.functionName(UTF8_BYTES)), args, returnType: typeName(call.returnType()) };
}

/**
 * Encodes a `FunctionCallResult` payload.
 * @throws TypeError when `result.value` does not match its declared type.
 */
export function encodeFunctionCallResult(result: CallResult): Uint8Array {
  const builder = newBuilder();
  let outcome: [Outcome, flatbuffers.Offset];
  if (result.ok) {
    outcome = [Outcome.ReturnValue, ReturnValue.createReturnValue(builder, ...writeValue(builder, result.value, 'return value'))];
  } else {
    const message = builder.createString(result.message);
    outcome = [Outcome.CallError, CallError.createCallError(builder, result.code, message)];
  }
  return finishPayload(builder, FunctionCallResult.createFunctionCallResult(builder, ...outcome));
}

/**
 * Decodes a `FunctionCallResult` payload from the guest.
 * @throws GuestProtocolError when it is malformed (including an error code of `None` or unknown).
 */
export function decodeFunctionCallResult(payload: Uint8Array): CallResult {
  verifyMessage(payload, MESSAGE_SCHEMAS.FunctionCallResult);
  const result = root(payload, FunctionCallResult.getRootAsFunctionCallResult);
  if (result.outcomeType() === Outcome.ReturnValue) {
    const value = result.outcome(new ReturnValue()) as ReturnValue;
    return { ok: true, value: readValue(value.valueType(), (table) => value.value(table)) };
  }
  const error = result.outcome(new CallError()) as CallError;
  return { ok: false, code: error.code(), message: text(error.message(UTF8_BYTES)) };
}

/**
 * Encodes a `GuestFunctionDetails` payload (what a guest publishes at initialisation; used by tests).
 * @throws TypeError for an unknown type name.
 */
export function encodeGuestFunctionDetails(functions: readonly GuestFunctionSignature[]): Uint8Array {
  const builder = newBuilder();
  const signatures = functions.map((fn) => {
    const name = builder.createString(fn.name);
    const parameters = FunctionSignature.createParametersVector(builder, fn.parameters.map((type) => wireType(type, `parameter of "${fn.name}"`)));
    return FunctionSignature.createFunctionSignature(builder, name, parameters, wireType(fn.returnType, `return type of "${fn.name}"`));
  });
  const vector = GuestFunctionDetails.createFunctionsVector(builder, signatures);
  return finishPayload(builder, GuestFunctionDetails.createGuestFunctionDetails(builder, vector));
}

/**
 * Decodes the `GuestFunctionDetails` payload a guest publishes at initialisation.
 * Checking names for duplicates and parameters for `void` or too many is left to the caller.
 * @throws GuestProtocolError when it is malformed (including a `None` type).
 */
export function decodeGuestFunctionDetails(payload: Uint8Array): GuestFunctionSignature[] {
  verifyMessage(payload, MESSAGE_SCHEMAS.GuestFunctionDetails);
  const details = root(payload, GuestFunctionDetails.getRootAsGuestFunctionDetails);
  return Array.from({ length: details.functionsLength() }, (_, index) => {
    const fn = details.functions(index)!;
    return {
      name: text(fn.name(UTF8_BYTES)),
      parameters: Array.from(fn.parametersArray() ?? [], typeName),
      returnType: typeName(fn.returnType()),
    };
  });
}

/**
 * Encodes a `LogRecord` payload (guests write these; used by tests).
 * @throws never
 */
export function encodeLogRecord(record: LogRecord): Uint8Array {
  const builder = newBuilder();
  const message = builder.createString(record.message);
  const target = builder.createString(record.target);
  const sourceFile = builder.createString(record.sourceFile);
  return finishPayload(builder, WireLogRecord.createLogRecord(builder, record.level, message, target, sourceFile, record.line));
}

/**
 * Decodes one `LogRecord` payload from the log area.
 * @throws GuestProtocolError when it is malformed.
 */
export function decodeLogRecord(payload: Uint8Array): LogRecord {
  verifyMessage(payload, MESSAGE_SCHEMAS.LogRecord);
  const record = root(payload, WireLogRecord.getRootAsLogRecord);
  return {
    level: Math.min(record.level(), LogLevel.Critical),
    message: text(record.message(UTF8_BYTES)),
    target: text(record.target(UTF8_BYTES)),
    sourceFile: text(record.sourceFile(UTF8_BYTES)),
    line: record.line(),
  };
}
