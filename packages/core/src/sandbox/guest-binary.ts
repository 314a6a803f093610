import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidGuestBinaryError } from '../errors.js';
import { parseElf, type ElfImage } from '../mem/elf-loader.js';

/**
 * A guest program: a static-PIE x86-64 ELF built with `@hyperlight-ts/guest-rs`
 * or `@hyperlight-ts/guest-c`. Parsed and checked once, when created.
 */
export class GuestBinary {
  #digest: string | undefined;

  private constructor(
    /** The ELF file's bytes (a private copy). */
    readonly bytes: Uint8Array,
    /** The parsed image. */
    readonly image: ElfImage,
    /** Where the bytes came from, for messages. */
    readonly source: string,
  ) {}

  /** SHA-256 of the ELF bytes, lowercase hex: what ties a snapshot to its binary. @throws never */
  get digest(): string {
    this.#digest ??= sha256Hex(this.bytes);
    return this.#digest;
  }

  /**
   * Reads a guest ELF from disk.
   * @throws InvalidGuestBinaryError if the file cannot be read or is not a guest ELF.
   * @example
   * const binary = GuestBinary.fromFile('./guest.elf');
   */
  static fromFile(path: string): GuestBinary {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new InvalidGuestBinaryError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    return GuestBinary.parse(bytes, path);
  }

  /**
   * Uses guest ELF bytes already in memory (they are copied).
   * @throws InvalidGuestBinaryError if the bytes are not a guest ELF.
   */
  static fromBytes(bytes: Uint8Array): GuestBinary {
    if (!(bytes instanceof Uint8Array)) {
      throw new InvalidGuestBinaryError(`expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
    }
    return GuestBinary.parse(Uint8Array.from(bytes), '<bytes>');
  }

  private static parse(bytes: Uint8Array, source: string): GuestBinary {
    try {
      return new GuestBinary(bytes, parseElf(bytes), source);
    } catch (error) {
      if (error instanceof InvalidGuestBinaryError && source !== '<bytes>') {
        throw new InvalidGuestBinaryError(`${source}: ${error.detail}`, { cause: error });
      }
      throw error;
    }
  }
}

/** SHA-256 of `bytes`, lowercase hex. @throws never */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
