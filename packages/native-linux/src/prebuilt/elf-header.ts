/**
 * Reads just enough of an ELF file's header to say why the dynamic loader
 * refused it: not ELF at all, built for another machine, or cut short.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** `e_machine` of x86-64. */
export const EM_X86_64 = 62;

/** Names of the `e_machine` values an addon is likely to be built for by mistake. */
const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'x86 (32-bit)',
  40: 'ARM (32-bit)',
  62: 'x86-64',
  183: 'aarch64',
  243: 'RISC-V',
};

/** Size of the ELF64 file header. */
const ELF64_HEADER_BYTES = 64;
const ELF_CLASS_64 = 2;
const ELF_DATA_LITTLE_ENDIAN = 1;

/** What {@link inspectElf} found. */
export type ElfFinding =
  | { readonly kind: 'not-elf'; readonly sizeBytes: number }
  | { readonly kind: 'wrong-class'; readonly detail: string }
  | { readonly kind: 'wrong-machine'; readonly machine: number; readonly machineName: string }
  | { readonly kind: 'truncated'; readonly sizeBytes: number; readonly expectedBytes: number }
  | { readonly kind: 'plausible' };

/** The name of an ELF `e_machine` value, e.g. `aarch64` for 183. */
export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `ELF machine ${machine}`;
}

/**
 * Checks the header of the file at `path`: the magic, 64-bit little-endian,
 * `e_machine` x86-64, and that the file is as long as its section header
 * table says (a download cut short is not).
 * @throws the file system's error when the file cannot be read.
 */
export function inspectElf(path: string): ElfFinding {
  const fd = openSync(path, 'r');
  try {
    const sizeBytes = fstatSync(fd).size;
    const header = Buffer.alloc(ELF64_HEADER_BYTES);
    const read = readSync(fd, header, 0, ELF64_HEADER_BYTES, 0);
    if (read < 4 || header.readUInt32BE(0) !== 0x7f454c46) return { kind: 'not-elf', sizeBytes };
    if (read < ELF64_HEADER_BYTES) return { kind: 'truncated', sizeBytes, expectedBytes: ELF64_HEADER_BYTES };
    if (header[4] !== ELF_CLASS_64 || header[5] !== ELF_DATA_LITTLE_ENDIAN) {
      return { kind: 'wrong-class', detail: `ELF class ${header[4]}, data encoding ${header[5]}; x86-64 needs 64-bit little-endian` };
    }
    const machine = header.readUInt16LE(18);
    if (machine !== EM_X86_64) return { kind: 'wrong-machine', machine, machineName: machineName(machine) };
    // e_shoff + e_shnum * e_shentsize: where the section header table ends, the last thing in the file.
    const sectionHeadersEnd = Number(header.readBigUInt64LE(40)) + header.readUInt16LE(60) * header.readUInt16LE(58);
    if (sizeBytes < sectionHeadersEnd) return { kind: 'truncated', sizeBytes, expectedBytes: sectionHeadersEnd };
    return { kind: 'plausible' };
  } finally {
    closeSync(fd);
  }
}
