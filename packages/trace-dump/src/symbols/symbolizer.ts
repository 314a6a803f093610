import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

import { readElfSymbols } from '@hyperlight-ts/core';
import type { TraceFileHeader } from '@hyperlight-ts/tracing';

import { TraceDumpError } from '../trace-dump-error.js';
import { demangleRust } from './demangle-rust.js';

/** Distinct addresses whose names are remembered; past this the cache starts over. */
const MAX_CACHED_ADDRESSES = 100_000;

/** Options for loading a guest binary's symbols. */
export interface SymbolizerOptions {
  /** Symbolize even when the binary's SHA-256 differs from the trace header's. */
  readonly ignoreHash?: boolean;
}

/**
 * Turns guest addresses from a trace into function names, using the guest
 * binary's ELF symbol table (`.symtab`). A guest address `a` is the ELF
 * address `a - imageBase + linkBase` (docs/tracing-format.md). Only function
 * symbols are used; a symbol with a size covers `[value, value + size)`, one
 * without a size (hand-written assembly) covers up to the next symbol. Source
 * lines are not available: they would need the binary's DWARF line tables.
 * Without a binary ({@link Symbolizer.none}) every address stays hex.
 */
export class Symbolizer {
  readonly #starts: bigint[];
  readonly #ends: bigint[];
  readonly #names: string[];
  readonly #bias: bigint;
  readonly #cache = new Map<string, string>();

  private constructor(symbols: readonly { name: string; value: bigint; size: bigint }[], bias: bigint) {
    this.#starts = symbols.map((s) => s.value);
    this.#ends = symbols.map((s, i) => (s.size > 0n ? s.value + s.size : (symbols[i + 1]?.value ?? s.value + 1n)));
    this.#names = symbols.map((s) => s.name);
    this.#bias = bias;
  }

  /** A symbolizer with no symbols: every address is printed as hex. */
  static none(): Symbolizer {
    return new Symbolizer([], 0n);
  }

  /**
   * Loads the symbols of the guest binary a trace was recorded with, after
   * checking its SHA-256 against the trace header's `guest.sha256`.
   * @throws TraceDumpError when the file cannot be read or its hash differs (unless `ignoreHash`)
   * @throws InvalidGuestBinaryError when it is not an x86-64 ELF with a readable symbol table
   */
  static async load(elfPath: string, header: TraceFileHeader, options?: SymbolizerOptions): Promise<Symbolizer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(elfPath);
    } catch (error) {
      throw new TraceDumpError(`cannot read guest ${elfPath}: ${(error as Error).message}`, { cause: error });
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    const expected = header.guest.sha256.toLowerCase();
    if (actual !== expected && !options?.ignoreHash) {
      throw new TraceDumpError(`trace was recorded with guest ${expected}, but ${elfPath} has ${actual} (--ignore-hash symbolizes anyway)`);
    }
    const functions = readElfSymbols(bytes).filter((s) => s.kind === 'function');
    return new Symbolizer(functions, BigInt(header.guest.linkBase) - BigInt(header.guest.imageBase));
  }

  /** Whether a binary with symbols was loaded. */
  get hasSymbols(): boolean {
    return this.#names.length > 0;
  }

  /** The demangled name of the function containing a guest address (`"0x…"` or bigint), or undefined. */
  functionAt(address: string | bigint): string | undefined {
    const elfAddress = BigInt(address) + this.#bias;
    let low = 0;
    let high = this.#starts.length;
    // The last symbol starting at or below the address.
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#starts[middle]! <= elfAddress) low = middle + 1;
      else high = middle;
    }
    const index = low - 1;
    if (index < 0 || elfAddress >= this.#ends[index]!) return undefined;
    return demangleRust(this.#names[index]!);
  }

  /**
   * The name to show for a stack frame (a return address): the function
   * containing the call instruction just before it, or the hex address.
   */
  frameName(returnAddress: string): string {
    let name = this.#cache.get(returnAddress);
    if (name === undefined) {
      const callSite = BigInt(returnAddress) - 1n;
      name = (this.hasSymbols ? this.functionAt(callSite) : undefined) ?? returnAddress.toLowerCase();
      if (this.#cache.size >= MAX_CACHED_ADDRESSES) this.#cache.clear();
      this.#cache.set(returnAddress, name);
    }
    return name;
  }
}
