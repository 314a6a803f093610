/**
 * Checks that a file is a guest the host can load (docs/abi.md, "Execution
 * model"): a static position-independent x86-64 ELF — `ET_DYN`, no
 * `PT_INTERP`, no shared-library dependencies, only `R_X86_64_RELATIVE`
 * relocations, no segment both writable and executable — whose entry point
 * is the guest runtime's `hyperlight_entry` (checked when the symbol table is
 * present).
 *
 * Field offsets: System V gABI "ELF-64 Object File Format" v1.5; relocation
 * types: x86-64 psABI §4.4.
 */
import { RustGuestBuildError } from './errors.js';

/** The symbol `hyperlight-guest` exports as the ELF entry point. */
export const GUEST_ENTRY_SYMBOL = 'hyperlight_entry';

const ET_DYN = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PT_TLS = 7;
const PF_X = 1;
const PF_W = 2;
const SHT_SYMTAB = 2;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_PLTRELSZ = 2n;
const DT_RELA = 7n;
const DT_RELASZ = 8n;
const DT_RELAENT = 9n;
const DT_REL = 17n;
const R_X86_64_RELATIVE = 8;
const ELF64_RELA_SIZE = 24;

/** What {@link checkStaticPie} learned about a valid guest. */
export interface StaticPieInfo {
  /** `e_entry`: the entry point's offset from the load address. */
  readonly entryOffset: bigint;
  /** Number of `R_X86_64_RELATIVE` relocations the loader applies. */
  readonly relocationCount: number;
  /** Whether the symbol table confirmed the entry is {@link GUEST_ENTRY_SYMBOL} (false when stripped). */
  readonly entryVerified: boolean;
}

interface Segment { type: number; flags: number; offset: bigint; vaddr: bigint; filesz: bigint }

function fail(why: string): never {
  throw new RustGuestBuildError('not-static-pie', `not a static-PIE x86-64 guest: ${why}`);
}

/** Bounds-checked little-endian reads; anything out of range is a truncated file. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(at: number, size: number): number {
    return at >= 0 && at + size <= this.bytes.length ? at : fail('the file is truncated');
  }
  u16(at: number): number { return this.view.getUint16(this.check(at, 2), true); }
  u32(at: number): number { return this.view.getUint32(this.check(at, 4), true); }
  u64(at: number): bigint { return this.view.getBigUint64(this.check(at, 8), true); }
  /** A file offset or size read from the file, as a number. */
  offset(v: bigint): number { return v <= BigInt(this.bytes.length) ? Number(v) : fail('an offset points past the end of the file'); }
  /** The NUL-terminated string at `at`. */
  cstring(at: number): string {
    let end = this.check(at, 0);
    while (end < this.bytes.length && this.bytes[end] !== 0) end++;
    return new TextDecoder().decode(this.bytes.subarray(at, end));
  }
}

/**
 * Validates `elf` as a loadable guest binary.
 *
 * @param elf - the whole file
 * @returns facts about the binary
 * @throws {@link RustGuestBuildError} with reason `not-static-pie`, saying what is wrong
 * @example
 * checkStaticPie(await readFile('guest.elf'));
 */
export function checkStaticPie(elf: Uint8Array): StaticPieInfo {
  const r = new Reader(elf);
  if (elf.length < 64 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) fail('no ELF magic');
  if (elf[4] !== 2 || elf[5] !== 1) fail('not a 64-bit little-endian ELF');
  if (r.u16(18) !== EM_X86_64) fail(`machine ${r.u16(18)} is not x86-64`);
  if (r.u16(16) !== ET_DYN) fail(`ELF type ${r.u16(16)} is not ET_DYN (link with -static-pie)`);
  const entryOffset = r.u64(24);

  const phoff = r.offset(r.u64(32));
  const segments: Segment[] = [];
  for (let i = 0; i < r.u16(56); i++) {
    const at = phoff + i * r.u16(54);
    segments.push({ type: r.u32(at), flags: r.u32(at + 4), offset: r.u64(at + 8), vaddr: r.u64(at + 16), filesz: r.u64(at + 32) });
  }
  if (segments.some((s) => s.type === PT_INTERP)) fail('it has a PT_INTERP (a dynamic loader); link with -static-pie -Wl,--no-dynamic-linker');
  if (segments.some((s) => s.type === PT_TLS)) fail('it uses thread-local storage (PT_TLS), which guests cannot have');
  if (segments.some((s) => s.type === PT_LOAD && (s.flags & PF_W) !== 0 && (s.flags & PF_X) !== 0)) {
    fail('a segment is both writable and executable');
  }

  return { entryOffset, relocationCount: countRelocations(r, segments), entryVerified: checkEntrySymbol(r, entryOffset) };
}

/** Walks the dynamic section: no DT_NEEDED/REL/PLT relocations, every RELA entry RELATIVE. */
function countRelocations(r: Reader, segments: readonly Segment[]): number {
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return 0;
  const tags = new Map<bigint, bigint>();
  const end = r.offset(dynamic.offset + dynamic.filesz);
  for (let at = r.offset(dynamic.offset); at + 16 <= end; at += 16) {
    const tag = r.u64(at);
    if (tag === DT_NULL) break;
    if (tag === DT_NEEDED) fail('it depends on a shared library (DT_NEEDED)');
    tags.set(tag, r.u64(at + 8));
  }
  if (tags.has(DT_REL)) fail('it has REL relocations; x86-64 guests use RELA');
  if ((tags.get(DT_PLTRELSZ) ?? 0n) > 0n) fail('it has PLT relocations (calls into shared libraries)');
  const rela = tags.get(DT_RELA);
  if (rela === undefined) return 0;

  const load = segments.find((s) => s.type === PT_LOAD && rela >= s.vaddr && rela < s.vaddr + s.filesz);
  if (!load) fail(`the relocation table at 0x${rela.toString(16)} is not in the file`);
  const start = r.offset(load.offset + (rela - load.vaddr));
  const entsize = Number(tags.get(DT_RELAENT) ?? BigInt(ELF64_RELA_SIZE));
  const size = r.offset(tags.get(DT_RELASZ) ?? 0n);
  if (entsize < ELF64_RELA_SIZE) fail(`relocation entries of ${entsize} bytes are too small`);
  let count = 0;
  for (let at = start; at + entsize <= start + size; at += entsize) {
    const info = r.u64(at + 8);
    const kind = Number(info & 0xffffffffn);
    if (kind !== R_X86_64_RELATIVE) fail(`relocation type ${kind} (symbol #${info >> 32n}) is not R_X86_64_RELATIVE`);
    count++;
  }
  return count;
}

/** Looks {@link GUEST_ENTRY_SYMBOL} up in `.symtab`; false when there is no symbol table. */
function checkEntrySymbol(r: Reader, entryOffset: bigint): boolean {
  const shoff = r.offset(r.u64(40));
  const shentsize = r.u16(58);
  const shnum = r.u16(60);
  // Offsets and sizes are checked only for the sections we read (.bss, for
  // one, has a size but no bytes in the file).
  const section = (i: number): { type: number; offset: number; size: number; link: number; entsize: number } => {
    const at = shoff + i * shentsize;
    return { type: r.u32(at + 4), offset: r.offset(r.u64(at + 24)), size: r.offset(r.u64(at + 32)), link: r.u32(at + 40), entsize: r.offset(r.u64(at + 56)) };
  };
  for (let i = 0; shoff !== 0 && i < shnum; i++) {
    if (r.u32(shoff + i * shentsize + 4) !== SHT_SYMTAB) continue;
    const symtab = section(i);
    if (symtab.entsize === 0) continue;
    const strtab = section(symtab.link);
    for (let at = symtab.offset; at + symtab.entsize <= symtab.offset + symtab.size; at += symtab.entsize) {
      if (r.cstring(strtab.offset + r.u32(at)) !== GUEST_ENTRY_SYMBOL) continue;
      const value = r.u64(at + 8);
      if (value !== entryOffset) {
        fail(`the entry point 0x${entryOffset.toString(16)} is not ${GUEST_ENTRY_SYMBOL} (0x${value.toString(16)}); link with -Wl,--entry=${GUEST_ENTRY_SYMBOL}`);
      }
      return true;
    }
    fail(`it has no ${GUEST_ENTRY_SYMBOL} symbol; does the crate depend on hyperlight-guest and declare #![no_main]?`);
  }
  return false;
}
