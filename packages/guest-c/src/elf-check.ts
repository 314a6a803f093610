/**
 * Checks that a linked guest is what the host's loader accepts (docs/abi.md
 * "Execution model"): x86-64 `ET_DYN`, no `PT_INTERP`, no `DT_NEEDED`, and
 * only `R_X86_64_RELATIVE` relocations. Written against the ELF-64 spec
 * (System V gABI; x86-64 psABI relocation numbers).
 */
import { readFile } from 'node:fs/promises';

import { GuestBuildError } from './guest-build-error.js';

const ET_DYN = 3;
const EM_X86_64 = 62;
const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_PLTRELSZ = 2n;
const DT_RELA = 7n;
const DT_RELASZ = 8n;
const DT_REL = 17n;
const R_X86_64_RELATIVE = 8;

/** What {@link verifyStaticPie} found. */
export interface StaticPieInfo {
  /** Entry point (offset from the load address). */
  readonly entry: bigint;
  /** Number of `R_X86_64_RELATIVE` relocations. */
  readonly relativeRelocations: number;
  /** Number of `PT_LOAD` segments. */
  readonly loadSegments: number;
}

/**
 * Verifies a guest ELF.
 * @throws GuestBuildError naming the first violation
 */
export async function verifyStaticPie(file: string): Promise<StaticPieInfo> {
  const buf = await readFile(file);
  const fail = (why: string): never => {
    throw new GuestBuildError(`${file} is not a loadable guest: ${why}`);
  };
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) fail('not an ELF file');
  if (buf[4] !== 2 || buf[5] !== 1) fail('not a 64-bit little-endian ELF');
  if (buf.readUInt16LE(16) !== ET_DYN) fail(`e_type ${buf.readUInt16LE(16)} is not ET_DYN (link with -static-pie)`);
  if (buf.readUInt16LE(18) !== EM_X86_64) fail('not x86-64');
  const entry = buf.readBigUInt64LE(24);
  const phoff = Number(buf.readBigUInt64LE(32));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  if (phoff + phnum * phentsize > buf.length) fail('program headers out of bounds');

  const loads: { vaddr: bigint; offset: bigint; filesz: bigint }[] = [];
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const type = buf.readUInt32LE(at);
    if (type === PT_INTERP) fail('it has PT_INTERP (link with -static-pie -Wl,--no-dynamic-linker)');
    if (type === PT_LOAD)
      loads.push({ offset: buf.readBigUInt64LE(at + 8), vaddr: buf.readBigUInt64LE(at + 16), filesz: buf.readBigUInt64LE(at + 32) });
    if (type === PT_DYNAMIC) dynamic = { offset: Number(buf.readBigUInt64LE(at + 8)), size: Number(buf.readBigUInt64LE(at + 32)) };
  }
  if (loads.length === 0) fail('no PT_LOAD segment');

  // Relocations are found through the dynamic section, as a loader does.
  const toOffset = (vaddr: bigint): number => {
    const seg = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    return seg ? Number(vaddr - seg.vaddr + seg.offset) : fail(`address 0x${vaddr.toString(16)} is not in the file`);
  };
  let rela = 0n;
  let relasz = 0n;
  if (dynamic) {
    for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.size && at + 16 <= buf.length; at += 16) {
      const tag = buf.readBigInt64LE(at);
      const val = buf.readBigUInt64LE(at + 8);
      if (tag === DT_NULL) break;
      if (tag === DT_NEEDED) fail('it needs shared libraries (DT_NEEDED)');
      if (tag === DT_REL) fail('it has REL relocations');
      if (tag === DT_PLTRELSZ && val !== 0n) fail('it has PLT relocations');
      if (tag === DT_RELA) rela = val;
      if (tag === DT_RELASZ) relasz = val;
    }
  }
  let relative = 0;
  if (relasz > 0n) {
    const start = toOffset(rela);
    const end = start + Number(relasz);
    if (end > buf.length) fail('relocation table out of bounds');
    for (let at = start; at + 24 <= end; at += 24) {
      const type = Number(buf.readBigUInt64LE(at + 8) & 0xffffffffn);
      if (type !== R_X86_64_RELATIVE) fail(`relocation type ${type} at entry ${(at - start) / 24} (only R_X86_64_RELATIVE is allowed)`);
      relative++;
    }
  }
  return { entry, relativeRelocations: relative, loadSegments: loads.length };
}
