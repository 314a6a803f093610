/**
 * Bounds-checked access to guest memory. Every host read of an address or
 * length that came from the guest goes through here, so a lying guest gets a
 * `GuestProtocolError` instead of a `RangeError`, `undefined` or a read of
 * the wrong bytes.
 */
import { GuestProtocolError } from '../errors.js';

/** A guest address or size: a `number` from host code or a `bigint` read from guest memory or registers. */
export type GuestSize = number | bigint;

function describe(value: GuestSize): string {
  if (typeof value === 'bigint') return `0x${BigInt.asUintN(64, value).toString(16)}`;
  return Number.isSafeInteger(value) && value >= 0 ? `0x${value.toString(16)}` : String(value);
}

/**
 * A view over the VM's memory `ArrayBuffer` (guest-physical address 0 is
 * byte 0). All multi-byte values are little-endian.
 *
 * Every method throws `GuestProtocolError` when `[gpa, gpa + size)` is not
 * inside guest memory, including after the VM is disposed (the buffer is then
 * detached and guest memory is empty).
 */
export class GuestMemory {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  /**
   * @param buffer - the VM's memory (`VirtualMachine.memory`)
   * @throws never
   * @example
   * const memory = new GuestMemory(vm.memory);
   * const length = memory.readU32(layout.outputGpa); // GuestProtocolError if out of range
   */
  constructor(buffer: ArrayBuffer) {
    this.#bytes = new Uint8Array(buffer);
    this.#view = new DataView(buffer);
  }

  /** Bytes of guest memory (0 once the VM is disposed). @throws never */
  get size(): number {
    return this.#bytes.byteLength;
  }

  /** Whether `[gpa, gpa + size)` lies inside guest memory. @throws never */
  contains(gpa: GuestSize, size: GuestSize): boolean {
    return this.#offset(gpa, size) !== undefined;
  }

  /**
   * Checks `[gpa, gpa + size)` and returns `gpa` as a number.
   * @throws GuestProtocolError when the range is not inside guest memory.
   */
  check(gpa: GuestSize, size: GuestSize, what = 'access'): number {
    const offset = this.#offset(gpa, size);
    if (offset === undefined) {
      throw new GuestProtocolError(
        `${what} of ${describe(size)} bytes at guest address ${describe(gpa)} is outside guest memory (${this.size} bytes)`,
      );
    }
    return offset;
  }

  /** @throws GuestProtocolError when the byte is outside guest memory. */
  readU8(gpa: GuestSize): number {
    return this.#bytes[this.check(gpa, 1, 'read')]!;
  }

  /** @throws GuestProtocolError when the bytes are outside guest memory. */
  readU16(gpa: GuestSize): number {
    return this.#view.getUint16(this.check(gpa, 2, 'read'), true);
  }

  /** @throws GuestProtocolError when the bytes are outside guest memory. */
  readU32(gpa: GuestSize): number {
    return this.#view.getUint32(this.check(gpa, 4, 'read'), true);
  }

  /** @throws GuestProtocolError when the bytes are outside guest memory. */
  readU64(gpa: GuestSize): bigint {
    return this.#view.getBigUint64(this.check(gpa, 8, 'read'), true);
  }

  /**
   * Copies `size` bytes out of guest memory, so later guest writes cannot
   * change what the host is looking at.
   * @throws GuestProtocolError when the bytes are outside guest memory.
   */
  readBytes(gpa: GuestSize, size: GuestSize): Uint8Array {
    const offset = this.check(gpa, size, 'read');
    return this.#bytes.slice(offset, offset + Number(size));
  }

  /**
   * A live view of `size` bytes of guest memory (no copy: it sees guest writes).
   * @throws GuestProtocolError when the bytes are outside guest memory.
   */
  subarray(gpa: GuestSize, size: GuestSize): Uint8Array {
    const offset = this.check(gpa, size, 'view');
    return this.#bytes.subarray(offset, offset + Number(size));
  }

  /** @throws GuestProtocolError when the byte is outside guest memory. */
  writeU8(gpa: GuestSize, value: number): void {
    this.#bytes[this.check(gpa, 1, 'write')] = value;
  }

  /** Writes `value` modulo 2^16. @throws GuestProtocolError when the bytes are outside guest memory. */
  writeU16(gpa: GuestSize, value: number): void {
    this.#view.setUint16(this.check(gpa, 2, 'write'), value, true);
  }

  /** Writes `value` modulo 2^32. @throws GuestProtocolError when the bytes are outside guest memory. */
  writeU32(gpa: GuestSize, value: number): void {
    this.#view.setUint32(this.check(gpa, 4, 'write'), value, true);
  }

  /** Writes `value` modulo 2^64. @throws GuestProtocolError when the bytes are outside guest memory. */
  writeU64(gpa: GuestSize, value: bigint | number): void {
    this.#view.setBigUint64(this.check(gpa, 8, 'write'), BigInt.asUintN(64, BigInt(value)), true);
  }

  /** @throws GuestProtocolError when the bytes are outside guest memory. */
  writeBytes(gpa: GuestSize, bytes: Uint8Array): void {
    this.#bytes.set(bytes, this.check(gpa, bytes.length, 'write'));
  }

  /** Sets `size` bytes to `value` (default 0). @throws GuestProtocolError when the bytes are outside guest memory. */
  fill(gpa: GuestSize, size: GuestSize, value = 0): void {
    const offset = this.check(gpa, size, 'write');
    this.#bytes.fill(value, offset, offset + Number(size));
  }

  /** `gpa` as a byte offset when `[gpa, gpa + size)` is in bounds, else undefined. */
  #offset(gpa: GuestSize, size: GuestSize): number | undefined {
    const limit = this.#bytes.byteLength;
    const start = toBoundedInteger(gpa, limit);
    const length = toBoundedInteger(size, limit);
    if (start === undefined || length === undefined || start + length > limit) return undefined;
    return start;
  }
}

/** `value` as a number when it is an integer in `[0, limit]`, else undefined (no overflow: limit < 2^53). */
function toBoundedInteger(value: GuestSize, limit: number): number | undefined {
  if (typeof value === 'bigint') return value >= 0n && value <= BigInt(limit) ? Number(value) : undefined;
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= limit ? value : undefined;
}
