/**
 * Parses and loads guest binaries: static position-independent x86-64 ELF
 * executables (`ET_DYN`, no `PT_INTERP`, only `R_X86_64_RELATIVE`
 * relocations), as docs/abi.md ("Execution model") requires.
 *
 * The binary is untrusted input: every offset, size and count is read as a
 * 64-bit value and checked with `bigint` arithmetic before use, so garbage
 * lengths cannot overflow, and every failure is an `InvalidGuestBinaryError`
 * saying what is wrong. Structure definitions: System V ABI gABI "Object
 * Files" chapter and the x86-64 psABI ("Relocation Types").
 *
 * Work is bounded too: parsing takes O(n log n) time in the number of
 * program headers and relocations, each capped (MAX_PROGRAM_HEADERS,
 * MAX_RELOCATIONS), and reading symbols reads a bounded number of name bytes
 * (MAX_SYMBOLS, MAX_SYMBOL_NAME_SIZE, MAX_SYMBOL_NAMES_SIZE), so a crafted
 * file of a few megabytes can neither stall the host nor exhaust its heap.
 */
import { ConfigurationError, InvalidGuestBinaryError } from '../errors.js';
import { MAX_GUEST_MEMORY_SIZE, PAGE_SIZE } from './layout.js';

/** One `PT_LOAD` segment, placed relative to the image start. */
export interface ElfSegment {
  /** Offset in bytes of the segment in the loaded image (`p_vaddr - vaddrBase`; not necessarily page-aligned). */
  readonly offset: number;
  /** Offset in bytes of the segment's data in the file (`p_offset`). */
  readonly fileOffset: number;
  /** Bytes copied from the file (`p_filesz`). */
  readonly fileSize: number;
  /** Bytes the segment occupies in memory (`p_memsz`); the part past `fileSize` is zero. */
  readonly memSize: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

/** One `R_X86_64_RELATIVE` relocation: store `load bias + addend` as a u64 at `offset`. */
export interface ElfRelocation {
  /** Offset in bytes in the loaded image of the 8 bytes to write. */
  readonly offset: number;
  /** `r_addend`, a link-time address. */
  readonly addend: bigint;
}

/** A parsed guest binary: what {@link loadElf} needs to place it in guest memory. */
export interface ElfImage {
  /** Bytes from the first `PT_LOAD` page to the end of the last, page-rounded. */
  readonly imageSize: number;
  /** Offset in bytes of the entry point (`e_entry`) from the image start. */
  readonly entryOffset: number;
  /** Link-time virtual address of the image start (the first `PT_LOAD` page); 0 for the usual static PIE. */
  readonly vaddrBase: bigint;
  /** Loadable segments with a non-zero memory size, in address order. */
  readonly segments: readonly ElfSegment[];
  readonly relocations: readonly ElfRelocation[];
}

/** Where {@link loadElf} put the image. */
export interface LoadedElf {
  /** Guest address of the relocated entry point. */
  readonly entryGva: bigint;
}

/** A function or data symbol from the binary's symbol table (`.symtab`). */
export interface ElfSymbol {
  readonly name: string;
  /** Link-time address (`st_value`); its guest address is `imageGpa + value - ElfImage.vaddrBase`. */
  readonly value: bigint;
  /** Bytes (`st_size`); 0 when unknown. */
  readonly size: bigint;
  readonly kind: 'function' | 'object';
}

// ELF constants (gABI "ELF Header", "Program Header", "Dynamic Section").
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ELFDATA2MSB = 2;
const EV_CURRENT = 1;
const ET_REL = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const ET_CORE = 4;
const EM_X86_64 = 62;
const ELF64_HEADER_SIZE = 64;
const ELF64_PHDR_SIZE = 56;
const ELF64_SHDR_SIZE = 64;
const ELF64_DYN_SIZE = 16;
const ELF64_RELA_SIZE = 24;
const ELF64_SYM_SIZE = 24;
const PN_XNUM = 0xffff;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_TLS = 7;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_PLTRELSZ = 2n;
const DT_RELA = 7n;
const DT_RELASZ = 8n;
const DT_RELAENT = 9n;
const DT_REL = 17n;
const DT_RELSZ = 18n;
const DT_JMPREL = 23n;
const DT_RELRSZ = 35n;
const DT_RELR = 36n;
const R_X86_64_NONE = 0;
const R_X86_64_RELATIVE = 8;
const SHT_SYMTAB = 2;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const SHN_UNDEF = 0;

const MACHINE_NAMES: Readonly<Record<number, string>> = {
  2: 'SPARC', 3: 'x86 (32-bit, EM_386)', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM (32-bit)',
  43: 'SPARC V9', 50: 'IA-64', 183: 'AArch64', 243: 'RISC-V', 247: 'BPF', 258: 'LoongArch',
};

const RELOCATION_NAMES: Readonly<Record<number, string>> = {
  1: 'R_X86_64_64', 2: 'R_X86_64_PC32', 3: 'R_X86_64_GOT32', 4: 'R_X86_64_PLT32', 5: 'R_X86_64_COPY',
  6: 'R_X86_64_GLOB_DAT', 7: 'R_X86_64_JUMP_SLOT', 9: 'R_X86_64_GOTPCREL', 10: 'R_X86_64_32', 11: 'R_X86_64_32S',
  12: 'R_X86_64_16', 13: 'R_X86_64_PC16', 14: 'R_X86_64_8', 15: 'R_X86_64_PC8', 16: 'R_X86_64_DTPMOD64',
  17: 'R_X86_64_DTPOFF64', 18: 'R_X86_64_TPOFF64', 19: 'R_X86_64_TLSGD', 20: 'R_X86_64_TLSLD',
  21: 'R_X86_64_DTPOFF32', 22: 'R_X86_64_GOTTPOFF', 23: 'R_X86_64_TPOFF32', 24: 'R_X86_64_PC64',
  25: 'R_X86_64_GOTOFF64', 26: 'R_X86_64_GOTPC32', 37: 'R_X86_64_IRELATIVE', 38: 'R_X86_64_RELATIVE64',
};

/**
 * Most program headers (`e_phnum`) a guest binary may have. Linkers emit
 * about ten (the Rust and C fixture guests have 10 and 8), and Linux's own
 * loader refuses a table larger than one 4 KiB page, 73 entries
 * (fs/binfmt_elf.c, `load_elf_phdrs`, v4.x). The cap bounds the work of
 * checking segments against each other and against the entry point.
 */
export const MAX_PROGRAM_HEADERS = 256;

/**
 * Most `Elf64_Rela` entries (including `R_X86_64_NONE`) in the relocation
 * table: 1 Mi, a 24 MiB table. The fixture guests have 32 and 478; a binary
 * with this many pointers in its data would be hundreds of megabytes. Each
 * one becomes an {@link ElfRelocation} object (about 95 bytes of heap), so
 * the cap also bounds memory, near 100 MB.
 */
export const MAX_RELOCATIONS = 1 << 20;

/**
 * Most entries in the symbol table (`.symtab`) {@link readElfSymbols} reads:
 * 512 Ki (a 12 MiB table). The fixture guests have fewer than 500; large
 * programs tens of thousands. Each symbol read costs about 170 bytes of heap,
 * so this bounds the result near 90 MB, as MAX_RELOCATIONS bounds parseElf's.
 */
export const MAX_SYMBOLS = 1 << 19;

/** Longest symbol name {@link readElfSymbols} reads, in bytes without the NUL: 64 KiB (long C++ and Rust names are a few KiB). */
export const MAX_SYMBOL_NAME_SIZE = 64 * 1024;

/**
 * Most bytes of symbol names {@link readElfSymbols} reads in total: 32 MiB,
 * which bounds the strings it returns however many symbols share or overlap
 * their names. The fixture guests' string tables are under 30 KiB.
 */
export const MAX_SYMBOL_NAMES_SIZE = 32 * 1024 * 1024;

const PAGE = BigInt(PAGE_SIZE);
const MAX_IMAGE_SIZE = BigInt(MAX_GUEST_MEMORY_SIZE);
const ADDRESS_SPACE_END = 1n << 64n;

function hex(value: bigint | number): string {
  return `0x${value.toString(16)}`;
}

function fail(detail: string): never {
  throw new InvalidGuestBinaryError(detail);
}

/** Little-endian reads that fail with a named, precise reason instead of a RangeError. */
class ElfReader {
  readonly #view: DataView;
  readonly length: bigint;

  constructor(readonly bytes: Uint8Array) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = BigInt(bytes.byteLength);
  }

  /** Checks that `[offset, offset + size)` is inside the file; returns `offset` as a number. */
  range(offset: bigint, size: bigint, what: string): number {
    if (offset < 0n || size < 0n || offset + size > this.length) {
      fail(`${what} (${size} bytes at file offset ${hex(offset)}) extends past the end of the file (${this.length} bytes)`);
    }
    return Number(offset);
  }

  u8(offset: number): number {
    return this.#view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.#view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.#view.getUint32(offset, true);
  }

  u64(offset: number): bigint {
    return this.#view.getBigUint64(offset, true);
  }

  i64(offset: number): bigint {
    return this.#view.getBigInt64(offset, true);
  }
}

interface ElfHeader {
  readonly type: number;
  readonly entry: bigint;
  readonly phoff: bigint;
  readonly shoff: bigint;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shentsize: number;
  readonly shnum: number;
}

/** Checks the identification bytes and machine, then reads the 64-byte header. */
function readHeader(reader: ElfReader): ElfHeader {
  const { bytes } = reader;
  const magicLength = Math.min(bytes.length, ELF_MAGIC.length);
  for (let i = 0; i < magicLength; i++) {
    if (bytes[i] !== ELF_MAGIC[i]) {
      fail(`not an ELF file (the first bytes are not 7f 45 4c 46 "\\x7fELF")`);
    }
  }
  if (bytes.length < 16) fail(`truncated: ${bytes.length} bytes is shorter than the ELF identification (16 bytes)`);
  const elfClass = reader.u8(4);
  if (elfClass === ELFCLASS32) fail('32-bit ELF (ELFCLASS32); guests must be 64-bit x86-64 executables');
  if (elfClass !== ELFCLASS64) fail(`invalid ELF class ${elfClass} (expected 2, ELFCLASS64)`);
  const data = reader.u8(5);
  if (data === ELFDATA2MSB) fail('big-endian ELF (ELFDATA2MSB); guests must be little-endian x86-64');
  if (data !== ELFDATA2LSB) fail(`invalid ELF data encoding ${data} (expected 1, little-endian)`);
  if (reader.u8(6) !== EV_CURRENT) fail(`unsupported ELF identification version ${reader.u8(6)} (expected 1)`);
  if (bytes.length < ELF64_HEADER_SIZE) {
    fail(`truncated: ${bytes.length} bytes is shorter than the 64-byte ELF64 header`);
  }
  const machine = reader.u16(18);
  if (machine !== EM_X86_64) {
    fail(`built for ${MACHINE_NAMES[machine] ?? `machine ${machine}`}, not x86-64 (e_machine ${machine}, expected 62)`);
  }
  if (reader.u32(20) !== EV_CURRENT) fail(`unsupported ELF version ${reader.u32(20)} (expected 1)`);
  return {
    type: reader.u16(16),
    entry: reader.u64(24),
    phoff: reader.u64(32),
    shoff: reader.u64(40),
    phentsize: reader.u16(54),
    phnum: reader.u16(56),
    shentsize: reader.u16(58),
    shnum: reader.u16(60),
  };
}

interface LoadHeader {
  readonly index: number;
  readonly flags: number;
  readonly offset: bigint;
  readonly vaddr: bigint;
  readonly filesz: bigint;
  readonly memsz: bigint;
}

function pageFloor(value: bigint): bigint {
  return value - (value % PAGE);
}

function pageCeil(value: bigint): bigint {
  return pageFloor(value + PAGE - 1n);
}

function flagsText(flags: number): string {
  return `${flags & PF_R ? 'R' : '-'}${flags & PF_W ? 'W' : '-'}${flags & PF_X ? 'X' : '-'}`;
}

/**
 * Parses and validates a guest binary. Nothing is loaded; pass the result to
 * {@link loadElf}.
 * @param bytes - the whole ELF file
 * @throws InvalidGuestBinaryError with the reason when the file is not a
 *   64-bit little-endian x86-64 static PIE (`ET_DYN`, no `PT_INTERP`, only
 *   `R_X86_64_RELATIVE` RELA relocations), or when any header, segment or
 *   table is truncated, misaligned, overlapping or out of range, a segment is
 *   both writable and executable, or the entry point is not in an executable
 *   segment, or it has more than {@link MAX_PROGRAM_HEADERS} program headers
 *   or {@link MAX_RELOCATIONS} relocations.
 * @example
 * const image = parseElf(readFileSync('guest.elf'));
 */
export function parseElf(bytes: Uint8Array): ElfImage {
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes as a Uint8Array, got ${typeof bytes}`);
  const reader = new ElfReader(bytes);
  const header = readHeader(reader);
  switch (header.type) {
    case ET_DYN:
      break;
    case ET_EXEC:
      fail('not position-independent (ET_EXEC): link with -static-pie');
    case ET_REL:
      fail('a relocatable object file (ET_REL), not an executable: link it with -static-pie');
    case ET_CORE:
      fail('a core dump (ET_CORE), not an executable');
    default:
      fail(`unsupported ELF type ${header.type} (expected 3, ET_DYN: a static PIE)`);
  }
  if (header.phnum === 0) fail('no program headers');
  if (header.phnum === PN_XNUM) fail('too many program headers (PN_XNUM extended numbering is not supported)');
  if (header.phnum > MAX_PROGRAM_HEADERS) {
    fail(`has ${header.phnum} program headers; at most ${MAX_PROGRAM_HEADERS} (MAX_PROGRAM_HEADERS) are accepted`);
  }
  if (header.phentsize !== ELF64_PHDR_SIZE) {
    fail(`program header entry size is ${header.phentsize} bytes (expected ${ELF64_PHDR_SIZE})`);
  }
  const phdrTable = reader.range(header.phoff, BigInt(header.phnum * ELF64_PHDR_SIZE), `program header table (${header.phnum} entries)`);

  const loads: LoadHeader[] = [];
  let dynamic: { offset: bigint; filesz: bigint } | undefined;
  for (let index = 0; index < header.phnum; index++) {
    const at = phdrTable + index * ELF64_PHDR_SIZE;
    const type = reader.u32(at);
    const flags = reader.u32(at + 4);
    const offset = reader.u64(at + 8);
    const vaddr = reader.u64(at + 16);
    const filesz = reader.u64(at + 32);
    const memsz = reader.u64(at + 40);
    const align = reader.u64(at + 48);
    switch (type) {
      case PT_INTERP:
        fail('dynamically linked (has a PT_INTERP program interpreter): link with -static-pie');
      case PT_TLS:
        if (memsz > 0n) fail('uses thread-local storage (PT_TLS), which guests do not support');
        break;
      case PT_DYNAMIC:
        if (dynamic) fail('more than one PT_DYNAMIC program header');
        reader.range(offset, filesz, `dynamic section (program header ${index})`);
        dynamic = { offset, filesz };
        break;
      case PT_LOAD: {
        const what = `segment ${index} (PT_LOAD ${flagsText(flags)} at vaddr ${hex(vaddr)})`;
        if (filesz > memsz) fail(`${what}: p_filesz (${filesz}) is larger than p_memsz (${memsz})`);
        reader.range(offset, filesz, `${what}: file data`);
        if (align > 1n) {
          if ((align & (align - 1n)) !== 0n) fail(`${what}: p_align ${hex(align)} is not a power of two`);
          if (vaddr % align !== offset % align) {
            fail(`${what}: misaligned: p_vaddr ${hex(vaddr)} and p_offset ${hex(offset)} differ modulo p_align ${hex(align)}`);
          }
        }
        if (vaddr + memsz > ADDRESS_SPACE_END) fail(`${what}: p_memsz ${hex(memsz)} runs past the end of the address space`);
        if ((flags & PF_W) !== 0 && (flags & PF_X) !== 0) {
          fail(`${what} is both writable and executable; link so code and data are in separate segments`);
        }
        if (memsz > 0n) loads.push({ index, flags, offset, vaddr, filesz, memsz });
        break;
      }
      default:
        break;
    }
  }
  if (loads.length === 0) fail('no loadable segment (PT_LOAD with a non-zero size)');

  // Segments in address order; pages are the unit of protection, so no two
  // segments may share one (docs/abi.md: "no page is both writable and executable").
  loads.sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
  const vaddrBase = pageFloor(loads[0]!.vaddr);
  let imageEnd = 0n;
  for (let i = 0; i < loads.length; i++) {
    const load = loads[i]!;
    const previous = loads[i - 1];
    if (previous && pageFloor(load.vaddr) < pageCeil(previous.vaddr + previous.memsz)) {
      fail(
        `segments ${previous.index} (vaddr ${hex(previous.vaddr)}, ${previous.memsz} bytes) and ${load.index} ` +
          `(vaddr ${hex(load.vaddr)}) overlap or share a page`,
      );
    }
    const end = load.vaddr + load.memsz;
    if (end > imageEnd) imageEnd = end;
  }
  const imageSize = pageCeil(imageEnd) - vaddrBase;
  if (imageSize > MAX_IMAGE_SIZE) {
    fail(`the loadable segments span ${imageSize} bytes; at most ${MAX_IMAGE_SIZE} fit in guest memory`);
  }

  const entrySegment = loads.find((l) => (l.flags & PF_X) !== 0 && header.entry >= l.vaddr && header.entry < l.vaddr + l.memsz);
  if (!entrySegment) fail(`entry point ${hex(header.entry)} is not inside an executable segment`);

  const segments: ElfSegment[] = loads.map((l) => Object.freeze({
    offset: Number(l.vaddr - vaddrBase),
    fileOffset: Number(l.offset),
    fileSize: Number(l.filesz),
    memSize: Number(l.memsz),
    readable: (l.flags & PF_R) !== 0,
    writable: (l.flags & PF_W) !== 0,
    executable: (l.flags & PF_X) !== 0,
  }));

  const relocations = dynamic ? readRelocations(reader, dynamic, loads, vaddrBase, segments) : [];
  return Object.freeze({
    imageSize: Number(imageSize),
    entryOffset: Number(header.entry - vaddrBase),
    vaddrBase,
    segments: Object.freeze(segments),
    relocations: Object.freeze(relocations),
  });
}

/** Reads the `PT_DYNAMIC` entries and the RELA table they point at. */
function readRelocations(
  reader: ElfReader,
  dynamic: { offset: bigint; filesz: bigint },
  loads: readonly LoadHeader[],
  vaddrBase: bigint,
  segments: readonly ElfSegment[],
): ElfRelocation[] {
  const tags = new Map<bigint, bigint>();
  const start = Number(dynamic.offset);
  const count = Number(dynamic.filesz / BigInt(ELF64_DYN_SIZE));
  for (let i = 0; i < count; i++) {
    const tag = reader.u64(start + i * ELF64_DYN_SIZE);
    if (tag === DT_NULL) break;
    const value = reader.u64(start + i * ELF64_DYN_SIZE + 8);
    if (tag === DT_NEEDED) fail('dynamically linked (DT_NEEDED names a shared library): link with -static-pie');
    if (tags.has(tag) && (tag === DT_RELA || tag === DT_RELASZ || tag === DT_RELAENT)) {
      fail(`dynamic section has more than one entry with tag ${tag}`);
    }
    tags.set(tag, value);
  }
  if (tags.has(DT_REL) || (tags.get(DT_RELSZ) ?? 0n) !== 0n) {
    fail('has REL relocations (DT_REL); only RELA relocations (R_X86_64_RELATIVE) are supported');
  }
  if (tags.has(DT_JMPREL) || (tags.get(DT_PLTRELSZ) ?? 0n) !== 0n) {
    fail('has PLT relocations (DT_JMPREL): the binary expects a dynamic linker; link with -static-pie');
  }
  if (tags.has(DT_RELR) || (tags.get(DT_RELRSZ) ?? 0n) !== 0n) {
    fail('has packed relative relocations (DT_RELR); link without -z pack-relative-relocs');
  }
  const tableVaddr = tags.get(DT_RELA);
  const tableSize = tags.get(DT_RELASZ) ?? 0n;
  if (tableVaddr === undefined) {
    if (tableSize !== 0n) fail('dynamic section has DT_RELASZ but no DT_RELA');
    return [];
  }
  const entrySize = tags.get(DT_RELAENT);
  if (entrySize !== BigInt(ELF64_RELA_SIZE)) {
    fail(`DT_RELAENT is ${entrySize ?? 'missing'} (expected ${ELF64_RELA_SIZE})`);
  }
  if (tableSize % BigInt(ELF64_RELA_SIZE) !== 0n) {
    fail(`DT_RELASZ (${tableSize}) is not a multiple of the ${ELF64_RELA_SIZE}-byte entry size`);
  }
  const entries = tableSize / BigInt(ELF64_RELA_SIZE);
  if (entries > BigInt(MAX_RELOCATIONS)) {
    fail(`relocation table (DT_RELASZ ${tableSize}) has ${entries} entries; at most ${MAX_RELOCATIONS} (MAX_RELOCATIONS) are accepted`);
  }
  // DT_RELA is a link-time address; find the file bytes that back it.
  const holder = loads.find((l) => tableVaddr >= l.vaddr && tableVaddr + tableSize <= l.vaddr + l.filesz);
  if (!holder) {
    fail(`relocation table (DT_RELA ${hex(tableVaddr)}, ${tableSize} bytes) is not inside the file data of a loadable segment`);
  }
  const tableOffset = reader.range(holder.offset + (tableVaddr - holder.vaddr), tableSize, 'relocation table');
  const relocations: ElfRelocation[] = [];
  const relocationCount = Number(entries);
  for (let i = 0; i < relocationCount; i++) {
    const at = tableOffset + i * ELF64_RELA_SIZE;
    const rOffset = reader.u64(at);
    const type = reader.u32(at + 8); // r_info low 32 bits; the symbol index (high 32) is unused by RELATIVE
    if (type === R_X86_64_NONE) continue;
    if (type !== R_X86_64_RELATIVE) {
      fail(
        `relocation ${i} has unsupported type ${RELOCATION_NAMES[type] ?? 'unknown'} (${type}); ` +
          'only R_X86_64_RELATIVE is supported: link with -static-pie and no shared libraries',
      );
    }
    const offset = rOffset - vaddrBase;
    const imageOffset = offset >= 0n && offset <= MAX_IMAGE_SIZE ? Number(offset) : -1;
    const target = imageOffset >= 0 ? segmentAt(segments, imageOffset) : undefined;
    if (!target || imageOffset + 8 > target.offset + target.memSize) {
      fail(`relocation ${i} writes 8 bytes at ${hex(rOffset)}, outside the loaded segments`);
    }
    relocations.push(Object.freeze({ offset: imageOffset, addend: reader.i64(at + 16) }));
  }
  return relocations;
}

/**
 * The segment that starts last at or below image offset `offset`, by binary
 * search: `segments` are in address order and never share a page (parseElf
 * checks both), so it is the only one that can contain `offset`. Exported for
 * tests only (the package index does not export it).
 *
 * @param segments - segments in ascending `offset` order
 * @param offset - an image offset in bytes
 * @returns the candidate segment, or `undefined` when `offset` is below the first
 */
export function segmentAt(segments: readonly ElfSegment[], offset: number): ElfSegment | undefined {
  let low = 0;
  let high = segments.length - 1;
  let found: ElfSegment | undefined;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const segment = segments[middle]!;
    if (segment.offset <= offset) {
      found = segment;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/**
 * Copies a parsed image into guest memory: zeroes the image area (unless it
 * is known to be zero), copies each segment's file bytes and applies the
 * relocations for load address `baseGva`. With `zeroed`, pages the file does
 * not fill (a large `.bss`) are never written, so they cost no memory until
 * the guest touches them.
 * @param image - from {@link parseElf} of the same `bytes`
 * @param bytes - the ELF file
 * @param memory - the image area of guest memory (at least `image.imageSize` bytes)
 * @param baseGva - guest address of `memory[0]`; a multiple of 4096
 * @param zeroed - `memory` already reads as zeros (fresh guest memory)
 * @returns the relocated entry point
 * @throws InvalidGuestBinaryError when `image` does not fit `bytes` or `memory`.
 * @throws ConfigurationError when `baseGva` is not a page-aligned, non-negative integer.
 * @example
 * const { entryGva } = loadElf(image, bytes, memory.subarray(layout.imageGpa, layout.imageSize), layout.imageGpa);
 */
export function loadElf(image: ElfImage, bytes: Uint8Array, memory: Uint8Array, baseGva: bigint | number, zeroed = false): LoadedElf {
  const base = typeof baseGva === 'bigint' ? baseGva : Number.isSafeInteger(baseGva) ? BigInt(baseGva) : -1n;
  if (base < 0n || base % PAGE !== 0n || base > 0xffff_ffff_ffffn) {
    throw new ConfigurationError('imageGpa', `the image load address must be a page-aligned guest address, got ${String(baseGva)}`);
  }
  if (memory.length < image.imageSize) {
    fail(`the image needs ${image.imageSize} bytes but its memory area holds ${memory.length}`);
  }
  if (!zeroed) memory.fill(0, 0, image.imageSize);
  for (const segment of image.segments) {
    if (segment.fileSize > segment.memSize || segment.fileOffset + segment.fileSize > bytes.length ||
      segment.offset + segment.memSize > image.imageSize) {
      fail(`segment at image offset ${hex(segment.offset)} does not match the file or the image size; parse the same bytes`);
    }
    memory.set(bytes.subarray(segment.fileOffset, segment.fileOffset + segment.fileSize), segment.offset);
  }
  const view = new DataView(memory.buffer, memory.byteOffset, image.imageSize);
  const bias = base - image.vaddrBase;
  for (const relocation of image.relocations) {
    if (relocation.offset < 0 || relocation.offset + 8 > image.imageSize) {
      fail(`relocation at image offset ${hex(relocation.offset)} is outside the image`);
    }
    view.setBigUint64(relocation.offset, BigInt.asUintN(64, bias + relocation.addend), true);
  }
  return { entryGva: base + BigInt(image.entryOffset) };
}

/**
 * Reads function and data symbols from the binary's symbol table (`.symtab`),
 * sorted by address, for turning guest addresses into names. A stripped
 * binary gives an empty list. The bytes read are bounded: at most
 * {@link MAX_SYMBOLS} table entries, names of at most
 * {@link MAX_SYMBOL_NAME_SIZE} bytes and {@link MAX_SYMBOL_NAMES_SIZE} bytes
 * of names in all.
 * @throws InvalidGuestBinaryError when the file is not a 64-bit x86-64 ELF;
 *   its section headers, symbol table or string table are truncated; the
 *   string table does not end with a NUL; a name lies outside it; or a limit
 *   above is exceeded.
 * @example
 * const names = readElfSymbols(readFileSync('guest.elf')).filter((s) => s.kind === 'function');
 */
export function readElfSymbols(bytes: Uint8Array): ElfSymbol[] {
  if (!(bytes instanceof Uint8Array)) fail(`expected the file's bytes as a Uint8Array, got ${typeof bytes}`);
  const reader = new ElfReader(bytes);
  const header = readHeader(reader);
  if (header.shnum === 0) return [];
  if (header.shentsize !== ELF64_SHDR_SIZE) {
    fail(`section header entry size is ${header.shentsize} bytes (expected ${ELF64_SHDR_SIZE})`);
  }
  const table = reader.range(header.shoff, BigInt(header.shnum * ELF64_SHDR_SIZE), `section header table (${header.shnum} entries)`);
  const section = (index: number) => {
    const at = table + index * ELF64_SHDR_SIZE;
    return { type: reader.u32(at + 4), offset: reader.u64(at + 24), size: reader.u64(at + 32), link: reader.u32(at + 40) };
  };
  let symtab: ReturnType<typeof section> | undefined;
  for (let i = 0; i < header.shnum && !symtab; i++) {
    const candidate = section(i);
    if (candidate.type === SHT_SYMTAB) symtab = candidate;
  }
  if (!symtab) return [];
  if (symtab.link >= header.shnum) fail(`symbol table links to string table section ${symtab.link}, which does not exist`);
  const strtab = section(symtab.link);
  const entries = symtab.size / BigInt(ELF64_SYM_SIZE);
  if (entries > BigInt(MAX_SYMBOLS)) {
    fail(`symbol table (${symtab.size} bytes) has ${entries} entries; at most ${MAX_SYMBOLS} (MAX_SYMBOLS) are read`);
  }
  const count = Number(entries);
  const symbolsAt = reader.range(symtab.offset, symtab.size, 'symbol table');
  const stringsAt = reader.range(strtab.offset, strtab.size, 'symbol string table');
  const stringsEnd = stringsAt + Number(strtab.size);
  // gABI "String Table": the last byte is NUL, so every name ends inside the table.
  if (stringsEnd > stringsAt && bytes[stringsEnd - 1] !== 0) {
    fail(`symbol string table (${strtab.size} bytes) does not end with a NUL byte, so its last name is unterminated`);
  }
  const decoder = new TextDecoder();
  const symbols: ElfSymbol[] = [];
  let namesSize = 0;
  for (let i = 0; i < count; i++) {
    const at = symbolsAt + i * ELF64_SYM_SIZE;
    const type = reader.u8(at + 4) & 0xf;
    if ((type !== STT_FUNC && type !== STT_OBJECT) || reader.u16(at + 6) === SHN_UNDEF) continue;
    const nameAt = stringsAt + reader.u32(at);
    if (nameAt >= stringsEnd) fail(`symbol ${i}'s name is outside the string table`);
    // Ends at the table's final NUL at the latest; scanning stops at the first over-long name.
    const nameSize = bytes.indexOf(0, nameAt) - nameAt;
    if (nameSize > MAX_SYMBOL_NAME_SIZE) {
      fail(`symbol ${i}'s name is ${nameSize} bytes long; at most ${MAX_SYMBOL_NAME_SIZE} (MAX_SYMBOL_NAME_SIZE) are read`);
    }
    namesSize += nameSize;
    if (namesSize > MAX_SYMBOL_NAMES_SIZE) {
      fail(
        `symbol names add up to ${namesSize} bytes by symbol ${i} of ${count}; ` +
          `at most ${MAX_SYMBOL_NAMES_SIZE} (MAX_SYMBOL_NAMES_SIZE) are read`,
      );
    }
    symbols.push({
      name: decoder.decode(bytes.subarray(nameAt, nameAt + nameSize)),
      value: reader.u64(at + 8),
      size: reader.u64(at + 16),
      kind: type === STT_FUNC ? 'function' : 'object',
    });
  }
  return symbols.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
}
