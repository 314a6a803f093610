/**
 * A FlatBuffers verifier for bytes that came from the guest. The generated
 * readers trust every offset they follow, so nothing is read with them until
 * this has checked, against a hand-written description of the schema, that
 * every offset, length, vtable and union the readers will touch stays inside
 * the message.
 *
 * Besides bounds it enforces:
 * - alignment as a standard size-prefixed flatbuffer has it: relative to the
 *   frame start, which is FRAME_HEADER_SIZE bytes before the payload;
 * - the limits of the JavaScript reader, which reads vtable entries as int16
 *   and offsets as int32 (so vtables and field offsets stay below 32 KiB and
 *   messages below 2 GiB);
 * - required fields, union tags and enum ranges;
 * - a nesting depth limit and a budget on the bytes visited, so offsets that
 *   alias one object many times cannot make decoding blow up.
 */
import { Abi } from '../abi/generated.js';
import { GuestProtocolError } from '../errors.js';
import { ErrorCode } from './generated/hyperlight/wire/error-code.js';
import { ValueType } from './generated/hyperlight/wire/value-type.js';

/** The values an enum field may take (inclusive), and the schema default used when it is absent. */
export interface EnumRange {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** Size in bytes of a scalar. */
export type ScalarSize = 1 | 2 | 4 | 8;

/** What a vector holds, or what a non-union field is. */
export type ElementSchema =
  | { readonly kind: 'scalar'; readonly size: ScalarSize; readonly enum?: EnumRange }
  | { readonly kind: 'string' }
  | { readonly kind: 'table'; readonly table: TableSchema };

/**
 * One field of a table, in declaration order. A union takes two vtable slots
 * (its `_type` byte, then the offset of the member table), every other field one.
 */
export type FieldSchema = { readonly name: string; readonly required?: boolean } & (
  | ElementSchema
  | { readonly kind: 'vector'; readonly element: ElementSchema }
  | { readonly kind: 'union'; readonly members: readonly TableSchema[] }
);

/** A table: its name (for messages) and its fields in declaration order. */
export interface TableSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
}

/** Deepest table nesting accepted (our schemas nest 3 deep). */
const MAX_DEPTH = 32;
/**
 * Bytes of tables, strings and vectors the verifier may visit per message byte.
 * Distinct objects never overlap, so only aliased offsets (one object referenced
 * many times) exceed 1; 2 leaves room for writers that share strings.
 */
const VISITS_PER_BYTE = 2;
/** Largest message: the reader's offsets are signed 32-bit. */
const MAX_MESSAGE_SIZE = 0x7fff_ffff;
/** Largest vtable size or field offset: the reader's vtable entries are signed 16-bit. */
const MAX_VTABLE_ENTRY = 0x7fff;
/** Size of a uoffset, soffset, vector length or string length. */
const OFFSET_SIZE = 4;

const VALUE_TYPE: EnumRange = { name: 'ValueType', min: ValueType.I32, max: ValueType.Void, default: ValueType.None };
const scalar = (name: string, size: ScalarSize, range?: EnumRange): FieldSchema =>
  range ? { name, kind: 'scalar', size, enum: range } : { name, kind: 'scalar', size };
const valueMember = (name: string, value: FieldSchema): TableSchema => ({ name, fields: [value] });

/** Members of the `Value` union, in tag order (schema/values.fbs). */
const VALUE_MEMBERS: readonly TableSchema[] = [
  valueMember('I32Value', scalar('value', 4)),
  valueMember('U32Value', scalar('value', 4)),
  valueMember('I64Value', scalar('value', 8)),
  valueMember('U64Value', scalar('value', 8)),
  valueMember('F32Value', scalar('value', 4)),
  valueMember('F64Value', scalar('value', 8)),
  valueMember('StringValue', { name: 'value', kind: 'string', required: true }),
  valueMember('BoolValue', scalar('value', 1)),
  valueMember('BytesValue', { name: 'value', kind: 'vector', element: { kind: 'scalar', size: 1 }, required: true }),
  { name: 'VoidValue', fields: [] },
];
const VALUE: FieldSchema = { name: 'value', kind: 'union', members: VALUE_MEMBERS, required: true };

/** The root tables of the messages the guest sends (schema/*.fbs). */
export const MESSAGE_SCHEMAS = {
  FunctionCall: {
    name: 'FunctionCall',
    fields: [
      { name: 'function_name', kind: 'string', required: true },
      { name: 'arguments', kind: 'vector', element: { kind: 'table', table: { name: 'Argument', fields: [VALUE] } } },
      scalar('return_type', 1, VALUE_TYPE),
    ],
  },
  FunctionCallResult: {
    name: 'FunctionCallResult',
    fields: [{
      name: 'outcome',
      kind: 'union',
      required: true,
      members: [
        { name: 'ReturnValue', fields: [VALUE] },
        {
          name: 'CallError',
          fields: [
            scalar('code', 4, { name: 'ErrorCode', min: ErrorCode.FunctionNotFound, max: ErrorCode.MessageTooLarge, default: ErrorCode.None }),
            { name: 'message', kind: 'string' },
          ],
        },
      ],
    }],
  },
  GuestFunctionDetails: {
    name: 'GuestFunctionDetails',
    fields: [{
      name: 'functions',
      kind: 'vector',
      element: {
        kind: 'table',
        table: {
          name: 'FunctionSignature',
          fields: [
            { name: 'name', kind: 'string', required: true },
            { name: 'parameters', kind: 'vector', element: { kind: 'scalar', size: 1, enum: VALUE_TYPE } },
            scalar('return_type', 1, { ...VALUE_TYPE, default: ValueType.Void }),
          ],
        },
      },
    }],
  },
  // LogLevel is not range-checked: the decoder clamps it.
  LogRecord: {
    name: 'LogRecord',
    fields: [
      scalar('level', 1),
      { name: 'message', kind: 'string' },
      { name: 'target', kind: 'string' },
      { name: 'source_file', kind: 'string' },
      scalar('line', 4),
    ],
  },
} as const satisfies Record<string, TableSchema>;

/**
 * Checks that `payload` (a frame's payload: a size-prefixed flatbuffer without
 * its 4-byte prefix) is a well-formed flatbuffer whose root is `root`.
 * @throws GuestProtocolError naming the field, its offset and what is wrong.
 */
export function verifyMessage(payload: Uint8Array, root: TableSchema): void {
  new Verifier(payload, root.name).verifyRoot(root);
}

/** Where a table is and what its vtable says, for reading its fields. */
interface TableLayout {
  readonly pos: number;
  readonly vtable: number;
  readonly vtableSize: number;
  readonly tableSize: number;
}

class Verifier {
  private readonly view: DataView;
  private readonly size: number;
  private budget: number;

  constructor(private readonly bytes: Uint8Array, private readonly message: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
    this.budget = this.size * VISITS_PER_BYTE;
  }

  verifyRoot(root: TableSchema): void {
    if (this.size > MAX_MESSAGE_SIZE) this.fail('', 0, `${this.size} bytes is more than the ${MAX_MESSAGE_SIZE}-byte limit`);
    this.checkBlock('', 0, OFFSET_SIZE, OFFSET_SIZE, 'root offset');
    this.table(this.follow(0), root, '', 1);
  }

  private fail(path: string, offset: number, problem: string): never {
    throw new GuestProtocolError(`malformed ${this.message} message: ${path || 'root table'} (offset ${offset}): ${problem}`);
  }

  /** Checks that `length` bytes at `pos` lie inside the message and `pos` is aligned to `align`. */
  private checkBlock(path: string, pos: number, length: number, align: number, what: string): void {
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
    return pos + this.view.getUint32(pos, true);
  }

  private table(pos: number, schema: TableSchema, path: string, depth: number): void {
    if (depth > MAX_DEPTH) this.fail(path, pos, `tables nest deeper than ${MAX_DEPTH}`);
    this.checkBlock(path, pos, OFFSET_SIZE, OFFSET_SIZE, `${schema.name} table`);
    const vtable = pos - this.view.getInt32(pos, true);
    this.checkBlock(path, vtable, 4, 2, `vtable of ${schema.name}`);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0 || vtableSize > MAX_VTABLE_ENTRY) {
      this.fail(path, vtable, `vtable of ${schema.name} has invalid size ${vtableSize}`);
    }
    this.checkBlock(path, vtable, vtableSize, 2, `vtable of ${schema.name}`);
    if (tableSize < OFFSET_SIZE) this.fail(path, vtable, `vtable of ${schema.name} gives table size ${tableSize}`);
    this.checkBlock(path, pos, tableSize, OFFSET_SIZE, `${schema.name} table`);
    this.charge(path, pos, tableSize);

    const layout: TableLayout = { pos, vtable, vtableSize, tableSize };
    let slot = 0;
    for (const field of schema.fields) {
      const fieldPath = path ? `${path}.${field.name}` : field.name;
      if (field.kind === 'union') {
        const typeAt = this.field(layout, slot, 1, `${fieldPath}_type`);
        const valueAt = this.field(layout, slot + 1, OFFSET_SIZE, fieldPath);
        this.union(pos, typeAt, valueAt, field, fieldPath, depth);
        slot += 2;
        continue;
      }
      const at = this.field(layout, slot, field.kind === 'scalar' ? field.size : OFFSET_SIZE, fieldPath);
      slot += 1;
      if (at === undefined) {
        if (field.required) this.fail(fieldPath, pos, `required field is missing from ${schema.name}`);
        if (field.kind === 'scalar' && field.enum) this.checkEnum(fieldPath, pos, field.enum, field.enum.default, ' (absent, so the default)');
        continue;
      }
      if (field.kind === 'vector') this.vector(this.follow(at), field.element, fieldPath, depth);
      else this.element(at, field, fieldPath, depth);
    }
  }

  /** The position of field `slot` of a table, or `undefined` when the vtable omits it. */
  private field(table: TableLayout, slot: number, size: number, path: string): number | undefined {
    const entry = 4 + 2 * slot;
    if (entry >= table.vtableSize) return undefined;
    const offset = this.view.getUint16(table.vtable + entry, true);
    if (offset === 0) return undefined;
    if (offset < OFFSET_SIZE || offset > MAX_VTABLE_ENTRY || offset + size > table.tableSize) {
      this.fail(path, table.pos, `field at table offset ${offset} (${size} bytes) lies outside the ${table.tableSize}-byte table`);
    }
    const at = table.pos + offset;
    if ((at + Abi.FRAME_HEADER_SIZE) % size !== 0) this.fail(path, at, `${size}-byte field is not aligned`);
    return at;
  }

  /** Checks a scalar, string or table stored (inline or by offset) at `at`. */
  private element(at: number, element: ElementSchema, path: string, depth: number): void {
    switch (element.kind) {
      case 'scalar':
        if (element.enum) this.checkEnum(path, at, element.enum, this.readUnsigned(at, element.size));
        return;
      case 'string':
        this.string(this.follow(at), path);
        return;
      case 'table':
        this.table(this.follow(at), element.table, path, depth + 1);
        return;
    }
  }

  private readUnsigned(at: number, size: ScalarSize): number {
    switch (size) {
      case 1: return this.view.getUint8(at);
      case 2: return this.view.getUint16(at, true);
      case 4: return this.view.getUint32(at, true);
      case 8: return Number(this.view.getBigUint64(at, true));
    }
  }

  private checkEnum(path: string, at: number, range: EnumRange, value: number, note = ''): void {
    if (value < range.min || value > range.max) {
      this.fail(path, at, `${range.name} ${value}${note} is not in ${range.min}..${range.max}`);
    }
  }

  private string(pos: number, path: string): void {
    this.checkBlock(path, pos, OFFSET_SIZE, OFFSET_SIZE, 'string length');
    const length = this.view.getUint32(pos, true);
    this.checkBlock(path, pos, OFFSET_SIZE + length + 1, 1, `string of ${length} bytes plus its NUL`);
    if (this.bytes[pos + OFFSET_SIZE + length] !== 0) this.fail(path, pos, 'string is not NUL-terminated');
    this.charge(path, pos, OFFSET_SIZE + length + 1);
  }

  private vector(pos: number, element: ElementSchema, path: string, depth: number): void {
    this.checkBlock(path, pos, OFFSET_SIZE, OFFSET_SIZE, 'vector length');
    const count = this.view.getUint32(pos, true);
    const elementSize = element.kind === 'scalar' ? element.size : OFFSET_SIZE;
    const start = pos + OFFSET_SIZE;
    // count * elementSize is below 2**35, exact in a double.
    this.checkBlock(path, start, count * elementSize, elementSize, `vector of ${count} × ${elementSize}-byte elements`);
    this.charge(path, pos, OFFSET_SIZE + count * elementSize);
    if (element.kind === 'scalar' && !element.enum) return;
    for (let i = 0; i < count; i++) this.element(start + i * elementSize, element, `${path}[${i}]`, depth);
  }

  private union(tablePos: number, typeAt: number | undefined, valueAt: number | undefined, field: Extract<FieldSchema, { kind: 'union' }>, path: string, depth: number): void {
    const tag = typeAt === undefined ? 0 : this.view.getUint8(typeAt);
    if (tag === 0) {
      if (valueAt !== undefined) this.fail(path, valueAt, 'union has a value but its type is NONE');
      if (field.required) this.fail(path, tablePos, 'required union is missing');
      return;
    }
    const member = field.members[tag - 1];
    if (member === undefined) this.fail(`${path}_type`, typeAt ?? tablePos, `unknown union type ${tag} (known: 1..${field.members.length})`);
    if (valueAt === undefined) this.fail(path, tablePos, `union type is ${member.name} but the value is missing`);
    this.table(this.follow(valueAt), member, `${path}<${member.name}>`, depth + 1);
  }
}
