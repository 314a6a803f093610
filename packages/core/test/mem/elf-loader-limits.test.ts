/**
 * The ELF loader's work limits: crafted binaries must be refused, or parsed,
 * quickly and in bounded memory, with an InvalidGuestBinaryError naming the
 * limit. Timings are benchmark-style bounds with wide margins; the comments
 * give what the unbounded loader took on the same input.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidGuestBinaryError } from '../../src/errors.js';
import {
  MAX_PROGRAM_HEADERS, MAX_RELOCATIONS, MAX_SYMBOL_NAME_SIZE, MAX_SYMBOL_NAMES_SIZE, MAX_SYMBOLS, parseElf, readElfSymbols, segmentAt,
  type ElfSegment,
} from '../../src/mem/elf-loader.js';
import { STT_FUNC, STT_OBJECT, buildElf, crowdedPie, minimalPie, withSymbols, type SymbolSpec } from '../fixtures/elf-builder.js';

/** Asserts `fn` throws an InvalidGuestBinaryError whose message matches `reason`. */
function expectInvalid(fn: () => unknown, reason: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected an InvalidGuestBinaryError').toBeInstanceOf(InvalidGuestBinaryError);
  expect((thrown as Error).message).toMatch(reason);
}

/** `count` function symbols named by `nameAt(i)`, an offset in the string table. */
function functions(count: number, nameAt: (i: number) => number): SymbolSpec[] {
  return Array.from({ length: count }, (_, i) => ({ name: nameAt(i), value: BigInt(0x1000 + i), type: STT_FUNC }));
}

/** A string table holding one name of `size` copies of `byte`, then the final NUL. */
function oneLongName(size: number, byte = 0x41): Uint8Array {
  const table = new Uint8Array(size + 1).fill(byte);
  table[size] = 0;
  return table;
}

describe('parseElf work limits', () => {
  it('refuses 65 533 segments and 4 000 relocations at once, on the header count', () => {
    const bytes = buildElf(crowdedPie({ segments: 65_533, relocations: 4000 }));
    expect(bytes.length).toBeGreaterThan(3_700_000);
    expectInvalid(() => parseElf(bytes), /has 65534 program headers; at most 256 \(MAX_PROGRAM_HEADERS\)/);
  });

  it(`accepts ${MAX_PROGRAM_HEADERS} program headers and refuses one more`, () => {
    const image = parseElf(buildElf(crowdedPie({ segments: MAX_PROGRAM_HEADERS - 1, relocations: 16 })));
    expect(image.segments).toHaveLength(MAX_PROGRAM_HEADERS - 1);
    expect(image.relocations).toHaveLength(16);
    const last = image.segments.at(-1)!;
    expect(image.relocations.every((r) => r.offset >= last.offset && r.offset + 8 <= last.offset + last.memSize)).toBe(true);
    expectInvalid(() => parseElf(buildElf(crowdedPie({ segments: MAX_PROGRAM_HEADERS, relocations: 16 }))), /has 257 program headers; at most 256/);
  });

  it(`finds a relocation's segment among ${MAX_PROGRAM_HEADERS} by reading at most 9 of them`, () => {
    // Work counted, not timed: a search through every segment made a binary at both caps take 5.4 s.
    const page = 0x1000;
    const segments: ElfSegment[] = Array.from({ length: MAX_PROGRAM_HEADERS }, (_, i) => ({
      offset: i * page, fileOffset: 0, fileSize: 0, memSize: page, readable: true, writable: true, executable: false,
    }));
    let reads = 0;
    const counted = new Proxy(segments, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    let most = 0;
    for (let offset = -1; offset <= MAX_PROGRAM_HEADERS * page; offset += 97) {
      reads = 0;
      const found = segmentAt(counted, offset);
      most = Math.max(most, reads);
      expect(found).toBe(offset < 0 ? undefined : segments[Math.min(Math.floor(offset / page), MAX_PROGRAM_HEADERS - 1)]);
    }
    expect(most).toBeLessThanOrEqual(Math.ceil(Math.log2(MAX_PROGRAM_HEADERS + 1)));
  });

  it(`parses a binary at both caps (${MAX_PROGRAM_HEADERS} program headers, ${MAX_RELOCATIONS} relocations)`, () => {
    // 25 MB; 5.4 s with a segment-by-segment search, about 0.5 s with the binary search.
    const bytes = buildElf(crowdedPie({ segments: MAX_PROGRAM_HEADERS - 1, relocations: MAX_RELOCATIONS }));
    expect(parseElf(bytes).relocations).toHaveLength(MAX_RELOCATIONS);
  });

  it(`refuses more than ${MAX_RELOCATIONS} relocations before reading the table`, () => {
    const withRelaSize = (size: bigint) => {
      const spec = minimalPie();
      new DataView(spec.blobs![1]!.bytes.buffer).setBigUint64(24, size, true); // DT_RELASZ's value
      return buildElf(spec);
    };
    expectInvalid(
      () => parseElf(withRelaSize(BigInt(MAX_RELOCATIONS + 1) * 24n)),
      new RegExp(`relocation table \\(DT_RELASZ ${(MAX_RELOCATIONS + 1) * 24}\\) has ${MAX_RELOCATIONS + 1} entries; at most ${MAX_RELOCATIONS} \\(MAX_RELOCATIONS\\)`),
    );
    // At the cap the count is fine; this small file then lacks the table.
    expectInvalid(() => parseElf(withRelaSize(BigInt(MAX_RELOCATIONS) * 24n)), /is not inside the file data of a loadable segment/);
  });
});

describe('readElfSymbols work limits', () => {
  it('refuses a string table that does not end with a NUL', () => {
    const bytes = buildElf(withSymbols(functions(3, (i) => i), new Uint8Array(100).fill(0x41)));
    expectInvalid(() => readElfSymbols(bytes), /symbol string table \(100 bytes\) does not end with a NUL byte/);
  });

  it(`reads a ${MAX_SYMBOL_NAME_SIZE}-byte name and refuses a longer one`, () => {
    const atCap = readElfSymbols(buildElf(withSymbols(functions(1, () => 0), oneLongName(MAX_SYMBOL_NAME_SIZE))));
    expect(atCap.map((s) => s.name.length)).toEqual([MAX_SYMBOL_NAME_SIZE]);
    const over = buildElf(withSymbols(functions(2, (i) => 1 - i), oneLongName(MAX_SYMBOL_NAME_SIZE + 1)));
    expectInvalid(() => readElfSymbols(over), /symbol 1's name is 65537 bytes long; at most 65536 \(MAX_SYMBOL_NAME_SIZE\)/);
  });

  it(`reads ${MAX_SYMBOL_NAMES_SIZE} bytes of names in all and refuses more`, () => {
    const perName = MAX_SYMBOL_NAME_SIZE;
    const fit = MAX_SYMBOL_NAMES_SIZE / perName;
    const strtab = oneLongName(perName);
    expect(readElfSymbols(buildElf(withSymbols(functions(fit, () => 0), strtab)))).toHaveLength(fit);
    const bytes = buildElf(withSymbols(functions(fit + 1, () => 0), strtab));
    expectInvalid(
      () => readElfSymbols(bytes),
      new RegExp(`symbol names add up to ${MAX_SYMBOL_NAMES_SIZE + perName} bytes by symbol ${fit} of ${fit + 1}; at most ${MAX_SYMBOL_NAMES_SIZE} \\(MAX_SYMBOL_NAMES_SIZE\\)`),
    );
  });

  it(`refuses a symbol table of more than ${MAX_SYMBOLS} entries before reading it`, () => {
    const spec = withSymbols(functions(1, () => 0), Uint8Array.of(0));
    spec.sections![1]!.size = BigInt(MAX_SYMBOLS + 1) * 24n;
    expectInvalid(() => readElfSymbols(buildElf(spec)), new RegExp(`has ${MAX_SYMBOLS + 1} entries; at most ${MAX_SYMBOLS} \\(MAX_SYMBOLS\\)`));
  });

  it('stops early on 20 000 symbols whose names overlap in one long name (1.3 GB of strings unbounded)', () => {
    // Names start at 0, 1, 2, ... of a 65 536-byte run, so each is up to 64 KiB.
    const bytes = buildElf(withSymbols(functions(20_000, (i) => i), oneLongName(MAX_SYMBOL_NAME_SIZE)));
    expectInvalid(() => readElfSymbols(bytes), /symbol names add up to .* \(MAX_SYMBOL_NAMES_SIZE\)/);
  });

  it('still reads well-formed symbols: functions and objects, sorted, undefined and other types skipped', () => {
    const strtab = new TextEncoder().encode('\0main\0counter\0file.c\0');
    const symbols: SymbolSpec[] = [
      { name: 1, value: 0x2000n, size: 16n, type: STT_FUNC },
      { name: 6, value: 0x1000n, size: 4n, type: STT_OBJECT },
      { name: 14, value: 0n, type: 4 /* STT_FILE */ },
      { name: 1, value: 0n, type: STT_FUNC, shndx: 0 },
    ];
    expect(readElfSymbols(buildElf(withSymbols(symbols, strtab)))).toEqual([
      { name: 'counter', value: 0x1000n, size: 4n, kind: 'object' },
      { name: 'main', value: 0x2000n, size: 16n, kind: 'function' },
    ]);
  });

  describe('in a child process with a 256 MB heap', () => {
    // Unbounded, each of these exhausted the heap: V8 aborts the process, which no catch can stop.
    const crafted: [name: string, bytes: () => Uint8Array, reason: RegExp][] = [
      // 578 KB: 20 000 names starting at 0, 1, 2, ... of a 90 000-byte table with no NUL.
      ['names that run to the end of an unterminated table', () => buildElf(withSymbols(functions(20_000, (i) => i), new Uint8Array(90_000).fill(0x41))), /does not end with a NUL/],
      ['names longer than the per-name limit', () => buildElf(withSymbols(functions(20_000, (i) => i), oneLongName(90_000))), /MAX_SYMBOL_NAME_SIZE/],
      ['overlapping names under the per-name limit', () => buildElf(withSymbols(functions(20_000, (i) => i), oneLongName(MAX_SYMBOL_NAME_SIZE, 0x80))), /MAX_SYMBOL_NAMES_SIZE/],
    ];
    const loader = fileURLToPath(new URL('../../src/mem/elf-loader.ts', import.meta.url));
    const script = `
      import { readFileSync } from 'node:fs';
      const { readElfSymbols } = await import(${JSON.stringify(loader)});
      try {
        console.log(JSON.stringify({ returned: readElfSymbols(readFileSync(process.argv[1])).length }));
      } catch (error) {
        console.log(JSON.stringify({ name: error.name, code: error.code, message: error.message }));
      }`;

    it.each(crafted)('%s: ends with the typed error, not an abort', (_name, make, reason) => {
      const dir = mkdtempSync(join(tmpdir(), 'hl-elf-symbols-'));
      try {
        const file = join(dir, 'crafted.elf');
        writeFileSync(file, make());
        const child = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', '--input-type=module', '-e', script, file], {
          cwd: fileURLToPath(new URL('../..', import.meta.url)),
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(child.signal, child.stderr.slice(-2000)).toBeNull();
        expect(child.status, child.stderr.slice(-2000)).toBe(0);
        const outcome = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as { code?: string; message?: string };
        expect(outcome.code).toBe('HL_ERR_INVALID_GUEST_BINARY');
        expect(outcome.message).toMatch(reason);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
