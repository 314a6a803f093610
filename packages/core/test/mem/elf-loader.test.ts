import { describe, expect, it } from 'vitest';
import { ConfigurationError, InvalidGuestBinaryError } from '../../src/errors.js';
import { loadElf, parseElf, readElfSymbols, type ElfImage } from '../../src/mem/elf-loader.js';
import { MAX_GUEST_MEMORY_SIZE } from '../../src/mem/layout.js';
import {
  DT_JMPREL, DT_NEEDED, DT_PLTRELSZ, DT_REL, DT_RELA, DT_RELAENT, DT_RELASZ, DT_RELR, PF_R, PF_W, PF_X, PT_DYNAMIC,
  PT_INTERP, PT_LOAD, PT_NOTE, PT_NULL, PT_TLS, R_X86_64_64, R_X86_64_GLOB_DAT, R_X86_64_NONE, R_X86_64_RELATIVE,
  buildElf, mapElfFile, minimalPie, patched, prng, type ElfSpec,
} from '../fixtures/elf-builder.js';
import { GUEST_SOURCE, compileGuest, hasGcc } from '../fixtures/gcc-guest.js';

/** Asserts `fn` throws an InvalidGuestBinaryError whose message matches `reason`. */
function expectInvalid(fn: () => unknown, reason: RegExp): InvalidGuestBinaryError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected an InvalidGuestBinaryError').toBeInstanceOf(InvalidGuestBinaryError);
  expect((thrown as Error).message).toMatch(reason);
  return thrown as InvalidGuestBinaryError;
}

/** Runs `fn`; anything thrown must be an InvalidGuestBinaryError. Returns the result or undefined. */
function onlyInvalid<T>(fn: () => T, context: string): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof InvalidGuestBinaryError)) {
      throw new Error(`${context}: threw ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`);
    }
    return undefined;
  }
}

function u64At(memory: Uint8Array, offset: number): bigint {
  return new DataView(memory.buffer, memory.byteOffset, memory.byteLength).getBigUint64(offset, true);
}

function withSpec(change: (spec: ElfSpec) => void, base: ElfSpec = minimalPie()): Uint8Array {
  change(base);
  return buildElf(base);
}

describe('parseElf / loadElf on synthetic binaries', () => {
  it('parses the minimal static PIE and applies its relocation', () => {
    const bytes = buildElf(minimalPie());
    const image = parseElf(bytes);
    expect(image.imageSize).toBe(0x4000);
    expect(image.entryOffset).toBe(0x1000);
    expect(image.vaddrBase).toBe(0n);
    expect(image.segments.map((s) => [s.offset, s.readable, s.writable, s.executable])).toEqual([
      [0, true, false, false], [0x1000, true, false, true], [0x2000, true, true, false],
    ]);
    expect(image.relocations).toEqual([{ offset: 0x20f8, addend: 0x1000n }]);

    const memory = new Uint8Array(image.imageSize).fill(0xaa);
    const { entryGva } = loadElf(image, bytes, memory, 0x40_0000);
    expect(entryGva).toBe(0x40_1000n);
    expect(u64At(memory, 0x20f8)).toBe(0x40_1000n);
    expect([...memory.subarray(0x1000, 0x1004)]).toEqual([0xe7, 0x10, 0xeb, 0xfc]);
    // Bytes past p_filesz, in gaps and in page tails are zero.
    expect(memory.subarray(0x1004, 0x2000).every((b) => b === 0)).toBe(true);
    expect(memory.subarray(0x2118, 0x4000).every((b) => b === 0)).toBe(true);
    expect(loadElf(image, bytes, memory, 0x40_0000n).entryGva).toBe(0x40_1000n);
  });

  it('into memory known to be zero, writes only what the file holds (an untouched .bss is never written)', () => {
    const bytes = buildElf(minimalPie());
    const image = parseElf(bytes);
    const memory = new Uint8Array(image.imageSize).fill(0xaa);
    loadElf(image, bytes, memory, 0x40_0000, true);
    expect([...memory.subarray(0x1000, 0x1004)]).toEqual([0xe7, 0x10, 0xeb, 0xfc]);
    expect(u64At(memory, 0x20f8)).toBe(0x40_1000n);
    // Nothing past the file's bytes was touched: the 0xaa stand-in for "never written" is still there.
    expect(memory.subarray(0x1004, 0x2000).every((b) => b === 0xaa)).toBe(true);
    expect(memory.subarray(0x3000, 0x4000).every((b) => b === 0xaa)).toBe(true);
  });

  it('handles a non-zero link base: offsets and relocations are relative to the first page', () => {
    const shift = 0x7000_0000n;
    const bytes = buildElf(minimalPie({ shift }));
    const image = parseElf(bytes);
    expect(image.vaddrBase).toBe(shift);
    expect(image.entryOffset).toBe(0x1000);
    expect(image.relocations).toEqual([{ offset: 0x20f8, addend: 0x7000_1000n }]);
    const memory = new Uint8Array(image.imageSize);
    loadElf(image, bytes, memory, 0x10_0000);
    expect(u64At(memory, 0x20f8)).toBe(0x10_1000n);
  });

  it('accepts program headers out of address order and R_X86_64_NONE relocations', () => {
    const spec = minimalPie({ relocations: [[0n, R_X86_64_NONE, 0n], [0x2100n, R_X86_64_RELATIVE, -8n]] });
    spec.phdrs.reverse();
    const image = parseElf(buildElf(spec));
    expect(image.segments.map((s) => s.offset)).toEqual([0, 0x1000, 0x2000]);
    expect(image.relocations).toEqual([{ offset: 0x2100, addend: -8n }]);
    const memory = new Uint8Array(image.imageSize);
    loadElf(image, buildElf(spec), memory, 0x1000);
    expect(u64At(memory, 0x2100)).toBe(0x1000n - 8n);
  });

  it('accepts a binary without PT_DYNAMIC (nothing to relocate)', () => {
    const image = parseElf(withSpec((s) => s.phdrs.pop()));
    expect(image.relocations).toEqual([]);
  });

  it.each([
    ['bad magic', () => Uint8Array.of(0x7f, 0x45, 0x4c, 0x47, ...new Array(60).fill(0)), /not an ELF file/],
    ['a text file', () => new TextEncoder().encode('#!/bin/sh\necho hello\n'.repeat(10)), /not an ELF file/],
    ['empty input', () => new Uint8Array(0), /truncated/],
    ['32-bit', () => withSpec((s) => { s.ident = { class: 1 }; }), /32-bit ELF/],
    ['invalid class', () => withSpec((s) => { s.ident = { class: 9 }; }), /invalid ELF class 9/],
    ['big-endian', () => withSpec((s) => { s.ident = { data: 2 }; }), /big-endian/],
    ['invalid data encoding', () => withSpec((s) => { s.ident = { data: 0 }; }), /data encoding 0/],
    ['ident version', () => withSpec((s) => { s.ident = { version: 2 }; }), /identification version 2/],
    ['AArch64', () => withSpec((s) => { s.machine = 183; }), /built for AArch64, not x86-64/],
    ['i386', () => withSpec((s) => { s.machine = 3; }), /built for x86 \(32-bit, EM_386\)/],
    ['unknown machine', () => withSpec((s) => { s.machine = 4242; }), /built for machine 4242/],
    ['e_version', () => withSpec((s) => { s.version = 0; }), /unsupported ELF version 0/],
    ['ET_EXEC', () => withSpec((s) => { s.type = 2; }), /not position-independent \(ET_EXEC\): link with -static-pie/],
    ['ET_REL', () => withSpec((s) => { s.type = 1; }), /relocatable object/],
    ['ET_CORE', () => withSpec((s) => { s.type = 4; }), /core dump/],
    ['unknown type', () => withSpec((s) => { s.type = 0xfe00; }), /unsupported ELF type/],
    ['no program headers', () => withSpec((s) => { s.phnum = 0; }), /no program headers/],
    ['PN_XNUM', () => withSpec((s) => { s.phnum = 0xffff; }), /PN_XNUM/],
    ['bad phentsize', () => withSpec((s) => { s.phentsize = 32; }), /program header entry size is 32/],
    ['phdr table past the end', () => withSpec((s) => { s.phoff = 0x2100n; }), /program header table .* extends past the end/],
    ['phoff garbage', () => withSpec((s) => { s.phoff = 0xffff_ffff_ffff_fff0n; }), /program header table/],
    ['PT_INTERP', () => withSpec((s) => { s.phdrs[3]!.type = PT_INTERP; }), /dynamically linked \(has a PT_INTERP/],
    ['PT_TLS', () => withSpec((s) => { s.phdrs[3]!.type = PT_TLS; }), /thread-local storage/],
    ['two PT_DYNAMIC', () => withSpec((s) => { s.phdrs[0]!.type = PT_DYNAMIC; }), /more than one PT_DYNAMIC/],
    ['no PT_LOAD', () => withSpec((s) => { s.phdrs.forEach((p) => { if (p.type === PT_LOAD) p.type = PT_NULL; }); }), /no loadable segment/],
    ['only empty PT_LOADs', () => withSpec((s) => { s.phdrs.forEach((p) => { if (p.type === PT_LOAD) { p.memsz = 0n; p.filesz = 0n; } }); }), /no loadable segment/],
    ['p_filesz > p_memsz', () => withSpec((s) => { s.phdrs[2]!.memsz = 0x10n; }), /p_filesz \(280\) is larger than p_memsz \(16\)/],
    ['segment data past the end', () => withSpec((s) => { s.phdrs[2]!.filesz = 0x1000n; s.phdrs[2]!.memsz = 0x2000n; }), /file data .* extends past the end of the file/],
    ['segment offset garbage', () => withSpec((s) => { s.phdrs[1]!.offset = 0xffff_ffff_ffff_f000n; }), /extends past the end/],
    ['segment size garbage', () => withSpec((s) => { s.phdrs[1]!.filesz = 0xffff_ffff_ffff_ffffn; s.phdrs[1]!.memsz = 0xffff_ffff_ffff_ffffn; }), /extends past the end/],
    ['memsz wraps the address space', () => withSpec((s) => { s.phdrs[2]!.memsz = 0xffff_ffff_ffff_f000n; }), /past the end of the address space/],
    ['image too large', () => withSpec((s) => { s.phdrs[2]!.memsz = BigInt(MAX_GUEST_MEMORY_SIZE); }), /span .* bytes; at most/],
    ['vaddr far away', () => withSpec((s) => { s.phdrs[2]!.vaddr = 0x7fff_ffff_f000n; s.phdrs[2]!.offset = 0x2000n; }), /span/],
    ['p_align not a power of two', () => withSpec((s) => { s.phdrs[1]!.align = 0x3000n; }), /not a power of two/],
    ['misaligned segment', () => withSpec((s) => { s.phdrs[2]!.vaddr = 0x2008n; }), /misaligned: p_vaddr 0x2008 and p_offset 0x2000/],
    ['overlapping segments', () => withSpec((s) => { s.phdrs[1]!.vaddr = 0n; }), /overlap or share a page/],
    ['segments sharing a page', () => withSpec((s) => { s.phdrs[1]!.vaddr = 0x200n; s.phdrs[1]!.offset = 0x200n; s.entry = 0x200n; }), /share a page/],
    ['W+X segment', () => withSpec((s) => { s.phdrs[1]!.flags = PF_R | PF_W | PF_X; }), /RWX.* both writable and executable/],
    ['entry in a data segment', () => withSpec((s) => { s.entry = 0x2000n; }), /entry point 0x2000 is not inside an executable segment/],
    ['entry outside the image', () => withSpec((s) => { s.entry = 0xdead_beefn; }), /entry point 0xdeadbeef/],
    ['dynamic section past the end', () => withSpec((s) => { s.phdrs[3]!.filesz = 0x10_0000n; }), /dynamic section/],
    ['DT_NEEDED', () => buildElf(minimalPie({ extraDynamic: [[DT_NEEDED, 1n]] })), /DT_NEEDED/],
    ['DT_REL', () => buildElf(minimalPie({ extraDynamic: [[DT_REL, 0x2000n]] })), /REL relocations \(DT_REL\)/],
    ['DT_JMPREL', () => buildElf(minimalPie({ extraDynamic: [[DT_JMPREL, 0x2000n]] })), /PLT relocations \(DT_JMPREL\)/],
    ['DT_PLTRELSZ', () => buildElf(minimalPie({ extraDynamic: [[DT_PLTRELSZ, 24n]] })), /PLT relocations/],
    ['DT_RELR', () => buildElf(minimalPie({ extraDynamic: [[DT_RELR, 0x2000n]] })), /DT_RELR/],
    ['duplicate DT_RELA', () => buildElf(minimalPie({ extraDynamic: [[DT_RELA, 0x2080n]] })), /more than one entry with tag 7/],
    ['DT_RELASZ without DT_RELA', () => withSpec((s) => { s.blobs![1] = { offset: 0x2000, bytes: new Uint8Array(new BigUint64Array([DT_RELASZ, 24n, 0n, 0n]).buffer) }; }), /DT_RELASZ but no DT_RELA/],
    ['wrong DT_RELAENT', () => withSpec((s) => { new DataView(s.blobs![1]!.bytes.buffer).setBigUint64(40, 16n, true); }), /DT_RELAENT is 16/],
    ['DT_RELASZ not a multiple', () => withSpec((s) => { new DataView(s.blobs![1]!.bytes.buffer).setBigUint64(24, 25n, true); }), /not a multiple/],
    ['DT_RELASZ garbage', () => withSpec((s) => { new DataView(s.blobs![1]!.bytes.buffer).setBigUint64(24, 0xffff_ffff_ffff_fff0n, true); }), /relocation table/],
    ['DT_RELA outside the file data', () => withSpec((s) => { new DataView(s.blobs![1]!.bytes.buffer).setBigUint64(8, 0x3000n, true); }), /relocation table \(DT_RELA 0x3000/],
    ['R_X86_64_64', () => buildElf(minimalPie({ relocations: [[0x20f8n, R_X86_64_64, 0n]] })), /unsupported type R_X86_64_64 \(1\)/],
    ['R_X86_64_GLOB_DAT', () => buildElf(minimalPie({ relocations: [[0x20f8n, R_X86_64_GLOB_DAT, 0n]] })), /R_X86_64_GLOB_DAT/],
    ['unknown relocation', () => buildElf(minimalPie({ relocations: [[0x20f8n, 250, 0n]] })), /unknown \(250\)/],
    ['relocation outside the image', () => buildElf(minimalPie({ relocations: [[0x10_0000n, R_X86_64_RELATIVE, 0n]] })), /relocation 0 writes 8 bytes at 0x100000, outside/],
    ['relocation in a gap', () => buildElf(minimalPie({ relocations: [[0x800n, R_X86_64_RELATIVE, 0n]] })), /outside the loaded segments/],
    ['relocation straddling the end', () => buildElf(minimalPie({ relocations: [[0x3ffcn, R_X86_64_RELATIVE, 0n]] })), /outside/],
    ['relocation below the base', () => buildElf(minimalPie({ shift: 0x10000n, relocations: [[0x8n, R_X86_64_RELATIVE, 0n]] })), /outside/],
    ['relocation at 2^64 - 8', () => buildElf(minimalPie({ relocations: [[0xffff_ffff_ffff_fff8n, R_X86_64_RELATIVE, 0n]] })), /outside/],
  ])('rejects %s', (_name, make, reason) => {
    const bytes = make();
    expectInvalid(() => parseElf(bytes), reason);
  });

  it('rejects input that is not a Uint8Array', () => {
    expectInvalid(() => parseElf('ELF' as unknown as Uint8Array), /Uint8Array/);
  });

  it('gives InvalidGuestBinaryError for every truncation of a valid binary', () => {
    const bytes = buildElf(minimalPie());
    for (let length = 0; length < bytes.length; length++) {
      expect(() => parseElf(bytes.subarray(0, length)), `length ${length}`).toThrow(InvalidGuestBinaryError);
    }
    expect(() => parseElf(bytes)).not.toThrow();
  });

  it('never throws anything but InvalidGuestBinaryError on random bytes', () => {
    const next = prng(0x5eed);
    for (let round = 0; round < 3000; round++) {
      const bytes = new Uint8Array(next() % 600);
      for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
      // Half the inputs get a valid ELF64 x86-64 ET_DYN prefix so the parser gets past the header.
      if (round % 2 === 0 && bytes.length >= 20) bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 62, 0]);
      onlyInvalid(() => parseElf(bytes), `random round ${round}`);
      onlyInvalid(() => readElfSymbols(bytes), `random symbols round ${round}`);
    }
  });

  it('never throws anything but InvalidGuestBinaryError on mutated headers, and loads what it accepts', () => {
    const good = buildElf(minimalPie());
    const next = prng(1234);
    // Mutate the ELF header, program headers, dynamic section and RELA table.
    const targets = [[0, 64 + 4 * 56], [0x2000, 0x2098]] as const;
    let accepted = 0;
    for (let round = 0; round < 5000; round++) {
      const bytes = good.slice();
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) {
        const [start, end] = targets[next() % targets.length]!;
        const at = start + (next() % (end - start));
        bytes[at] = next() % 3 === 0 ? 0xff : next() & 0xff;
      }
      const image = onlyInvalid(() => parseElf(bytes), `mutation round ${round}`);
      if (!image) continue;
      accepted++;
      checkImageInvariants(image, bytes.length);
      // Mutated sizes can make huge images: a too-small area must then be refused, not overrun.
      const area = new Uint8Array(Math.min(image.imageSize, 1 << 20));
      onlyInvalid(() => loadElf(image, bytes, area, 0x20_0000), `load round ${round}`);
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

/** What every accepted image guarantees to the layout and loader. */
function checkImageInvariants(image: ElfImage, fileSize: number): void {
  expect(image.imageSize % 4096).toBe(0);
  expect(image.imageSize).toBeGreaterThan(0);
  expect(image.imageSize).toBeLessThanOrEqual(MAX_GUEST_MEMORY_SIZE);
  let previousEnd = 0;
  for (const s of image.segments) {
    expect(s.writable && s.executable).toBe(false);
    expect(s.fileSize).toBeLessThanOrEqual(s.memSize);
    expect(s.fileOffset + s.fileSize).toBeLessThanOrEqual(fileSize);
    expect(Math.floor(s.offset / 4096) * 4096).toBeGreaterThanOrEqual(previousEnd);
    previousEnd = Math.ceil((s.offset + s.memSize) / 4096) * 4096;
  }
  expect(previousEnd).toBe(image.imageSize);
  expect(image.segments.some((s) => s.executable && image.entryOffset >= s.offset && image.entryOffset < s.offset + s.memSize)).toBe(true);
  for (const r of image.relocations) expect(r.offset + 8).toBeLessThanOrEqual(image.imageSize);
}

describe('loadElf argument checks', () => {
  const bytes = buildElf(minimalPie());
  const image = parseElf(bytes);

  it('rejects a memory area smaller than the image', () => {
    expectInvalid(() => loadElf(image, bytes, new Uint8Array(image.imageSize - 1), 0), /needs 16384 bytes but its memory area holds 16383/);
  });

  it('rejects bytes that do not match the image', () => {
    expectInvalid(() => loadElf(image, bytes.subarray(0, 0x2010), new Uint8Array(image.imageSize), 0), /does not match the file/);
  });

  it('rejects relocations outside the image', () => {
    const forged: ElfImage = { ...image, relocations: [{ offset: image.imageSize - 4, addend: 0n }] };
    expectInvalid(() => loadElf(forged, bytes, new Uint8Array(image.imageSize), 0), /outside the image/);
  });

  it.each([0x1001, -4096, 1.5, Number.NaN, -1n, 0x1001n])('rejects load address %s', (base) => {
    expect(() => loadElf(image, bytes, new Uint8Array(image.imageSize), base)).toThrow(ConfigurationError);
  });
});

const gccNote = hasGcc ? '' : ' (skipped: gcc is not installed, so no real binary can be built)';

describe.skipIf(!hasGcc)(`parseElf / loadElf on gcc output${gccNote}`, () => {
  const good = hasGcc ? compileGuest(GUEST_SOURCE, 'static-pie') : new Uint8Array();
  const symbol = (name: string) => {
    const found = readElfSymbols(good).find((s) => s.name === name);
    expect(found, `symbol ${name}`).toBeDefined();
    return found!;
  };

  it('parses a real static PIE: entry, segments and relocations', () => {
    const image = parseElf(good);
    expect(image.vaddrBase).toBe(0n);
    expect(BigInt(image.entryOffset)).toBe(symbol('_start').value);
    checkImageInvariants(image, good.length);
    expect(image.segments.filter((s) => s.executable)).toHaveLength(1);
    expect(image.segments.filter((s) => s.writable)).toHaveLength(1);
    // counter_ptr, greetings[0..1] and self at least.
    expect(image.relocations.length).toBeGreaterThanOrEqual(4);
  });

  it('loads it: file bytes copied, .bss zeroed, every pointer relocated to the load address', () => {
    const image = parseElf(good);
    const memory = new Uint8Array(image.imageSize).fill(0xcc);
    const base = 0x13_0000n;
    const { entryGva } = loadElf(image, good, memory, base);
    expect(entryGva).toBe(base + symbol('_start').value);
    const at = (name: string) => Number(symbol(name).value);
    expect(new DataView(memory.buffer).getInt32(at('counter'), true)).toBe(41);
    expect(u64At(memory, at('counter_ptr'))).toBe(base + symbol('counter').value);
    expect(u64At(memory, at('self'))).toBe(base + symbol('_start').value);
    const cString = (gva: bigint) => {
      const start = Number(gva - base);
      return new TextDecoder().decode(memory.subarray(start, memory.indexOf(0, start)));
    };
    expect(cString(u64At(memory, at('greetings')))).toBe('hello');
    expect(cString(u64At(memory, at('greetings') + 8))).toBe('world');
    const scratch = symbol('scratch');
    expect(memory.subarray(Number(scratch.value), Number(scratch.value + scratch.size)).every((b) => b === 0)).toBe(true);
  });

  it('gives InvalidGuestBinaryError for every truncation up to the end of the loaded data', () => {
    const image = parseElf(good);
    const needed = Math.max(...image.segments.map((s) => s.fileOffset + s.fileSize));
    for (let length = 0; length < good.length; length++) {
      const prefix = good.subarray(0, length);
      if (length < needed) expect(() => parseElf(prefix), `length ${length}`).toThrow(InvalidGuestBinaryError);
      else expect(parseElf(prefix)).toEqual(image); // section headers are not needed
    }
  });

  it('rejects a real -static -no-pie executable', () => {
    expectInvalid(() => parseElf(compileGuest(GUEST_SOURCE, 'static-no-pie')), /not position-independent \(ET_EXEC\): link with -static-pie/);
  });

  it('rejects a real dynamically linked PIE', () => {
    expectInvalid(() => parseElf(compileGuest(GUEST_SOURCE, 'dynamic-pie')), /dynamically linked/);
  });

  it('rejects patched variants: machine, class, W+X, entry, relocation type and target', () => {
    const map = mapElfFile(good);
    const code = map.phdrs.find((p) => p.type === PT_LOAD && (p.flags & PF_X) !== 0)!;
    const data = map.phdrs.find((p) => p.type === PT_LOAD && (p.flags & PF_W) !== 0)!;
    expectInvalid(() => parseElf(patched(good, (v) => v.setUint16(18, 40, true))), /ARM/);
    expectInvalid(() => parseElf(patched(good, (_v, b) => { b[4] = 1; })), /32-bit/);
    expectInvalid(() => parseElf(patched(good, (_v, b) => { b[5] = 2; })), /big-endian/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setUint16(16, 2, true))), /-static-pie/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setUint32(code.at + 4, PF_R | PF_W | PF_X, true))), /writable and executable/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(24, data.vaddr, true))), /not inside an executable segment/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(data.at + 32, data.memsz + 1n, true))), /larger than p_memsz/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(data.at + 16, data.vaddr + 1n, true))), /misaligned/);
    expect(map.relaAt).toBeDefined();
    expectInvalid(() => parseElf(patched(good, (v) => v.setUint32(map.relaAt! + 8, R_X86_64_GLOB_DAT, true))), /R_X86_64_GLOB_DAT/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(map.relaAt!, 0x4000_0000n, true))), /outside the loaded segments/);
    const note = map.phdrs.find((p) => p.type === PT_NOTE);
    if (note) expectInvalid(() => parseElf(patched(good, (v) => v.setUint32(note.at, PT_TLS, true))), /thread-local/);
    const spare = map.dynamic.find((d) => d.tag === 0x15n /* DT_DEBUG */) ?? map.dynamic.at(-2)!;
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(spare.at, DT_JMPREL, true))), /DT_JMPREL/);
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(spare.at, DT_NEEDED, true))), /DT_NEEDED/);
    const relaent = map.dynamic.find((d) => d.tag === DT_RELAENT)!;
    expectInvalid(() => parseElf(patched(good, (v) => v.setBigUint64(relaent.at + 8, 0n, true))), /DT_RELAENT/);
  });

  it('reads symbols (functions and objects, sorted) and an empty list from a stripped binary', () => {
    const symbols = readElfSymbols(good);
    expect(symbols.find((s) => s.name === '_start')?.kind).toBe('function');
    expect(symbols.find((s) => s.name === 'counter')?.kind).toBe('object');
    expect(symbols.map((s) => s.value)).toEqual([...symbols.map((s) => s.value)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(readElfSymbols(compileGuest(GUEST_SOURCE, 'static-pie', ['-s']))).toEqual([]);
  });

  it('rejects truncated section data when reading symbols, with InvalidGuestBinaryError only', () => {
    const view = new DataView(good.buffer, good.byteOffset);
    const shoff = Number(view.getBigUint64(40, true));
    expectInvalid(() => readElfSymbols(good.subarray(0, shoff + 10)), /section header table/);
    for (let length = 0; length < good.length; length += 7) {
      onlyInvalid(() => readElfSymbols(good.subarray(0, length)), `symbols length ${length}`);
    }
  });
});
