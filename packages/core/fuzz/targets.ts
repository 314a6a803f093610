/**
 * What the fuzzer runs: each target takes one input (an ELF file, or a guest
 * memory area holding a frame or the log area), calls the code under test
 * and checks what it returned. A target may throw only a `HyperlightError`
 * (the input was rejected); anything else it throws, and any
 * {@link OracleViolation} (an accepted input broke a promise the code makes),
 * is a finding.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HyperlightError } from '../src/errors.js';
import {
  MAX_SYMBOL_NAMES_SIZE, MAX_SYMBOLS, loadElf, parseElf, readElfSymbols, type ElfImage,
} from '../src/mem/elf-loader.js';
import { MAX_GUEST_MEMORY_SIZE, PAGE_SIZE } from '../src/mem/layout.js';
import {
  decodeFunctionCall, decodeFunctionCallResult, decodeGuestFunctionDetails, decodeLogRecord, encodeFunctionCall,
  encodeFunctionCallResult, encodeGuestFunctionDetails, encodeLogRecord, ErrorCode, LogLevel, type CallResult,
  type FunctionCallMessage, type GuestFunctionSignature, type LogRecord,
} from '../src/protocol/codec.js';
import { decodeText, readFrame, readTextFrame, writeFrame } from '../src/protocol/framing.js';
import { CallDecoder } from '../src/protocol/call-decoder.js';
import { encodeCallInto } from '../src/protocol/call-encoder.js';
import { drainLogArea } from '../src/protocol/log-area.js';
import { ResultDecoder } from '../src/protocol/result-decoder.js';
import { ResultEncoder } from '../src/protocol/result-encoder.js';
import type { TypedValue } from '../src/protocol/values.js';
import {
  PT_DYNAMIC, R_X86_64_RELATIVE, STT_FUNC, STT_OBJECT, buildElf, crowdedPie, mapElfFile, minimalPie, withSymbols,
} from '../test/fixtures/elf-builder.js';
import type { Range, Seed } from './mutate.js';

/** An accepted input broke a promise of the code under test. */
export class OracleViolation extends Error {
  override readonly name = 'OracleViolation';
}

/** One thing to fuzz. */
export interface FuzzTarget {
  readonly name: string;
  /** What it calls, for `--list`. */
  readonly description: string;
  /** Valid inputs to mutate (built once per process; must be the same in every process). */
  seeds(): Seed[];
  /** Byte strings of the format (magic numbers, tags, type values) that mutations may write. */
  readonly dictionary: readonly Uint8Array[];
  /**
   * Runs one input, which it may modify.
   * @returns a short label of the outcome, counted in the report (e.g. `accepted`)
   * @throws HyperlightError when the input is rejected; anything else is a finding
   */
  run(input: Uint8Array): string;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) throw new OracleViolation(what);
}

// ---------------------------------------------------------------------------
// ELF

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Built fixture guests (fixtures/guests/out/*.elf), used as seeds when present. */
export const GUEST_DIR = join(REPO_ROOT, 'fixtures/guests/out');
/** Load address used for accepted images (page-aligned, like the sandbox's image address). */
const LOAD_GVA = 0x20_0000n;
/** Largest image the elf-load target copies into memory; bigger accepted images are only parsed. */
const LOAD_AREA_SIZE = 16 * 1024 * 1024;

function u32le(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  return bytes;
}

function u64le(value: bigint): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt.asUintN(64, value), true);
  return bytes;
}

const ELF_DICTIONARY: readonly Uint8Array[] = [
  Uint8Array.of(0x7f, 0x45, 0x4c, 0x46), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1), Uint8Array.of(3, 0, 62, 0),
  ...[0, 1, 2, 3, 4, 6, 7, 0x6474e551, 0x6474e552].map(u32le), // PT_NULL..PT_TLS, GNU_STACK, GNU_RELRO
  ...[1, 4, 5, 6, 7].map(u32le), // p_flags
  ...[0n, 1n, 2n, 7n, 8n, 9n, 17n, 18n, 23n, 35n, 36n].map(u64le), // DT_* tags
  ...[0, 1, 6, 8, 37].map(u32le), // relocation types
  ...[2, 3, 11].map(u32le), // SHT_SYMTAB, SHT_STRTAB, SHT_DYNSYM
  Uint8Array.of(STT_FUNC), Uint8Array.of(STT_OBJECT), Uint8Array.of(0x12), Uint8Array.of(0),
];

/** Hot ranges of a valid ELF: headers, program and section header tables, dynamic, RELA and symbol tables. */
function elfRanges(bytes: Uint8Array): { load: Range[]; symbols: Range[] } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const map = mapElfFile(bytes);
  const load: Range[] = [[0, 64], [map.phoff, map.phoff + map.phnum * 56]];
  const dynamic = map.phdrs.find((p) => p.type === PT_DYNAMIC);
  if (dynamic) load.push([Number(dynamic.offset), Number(dynamic.offset + dynamic.filesz)]);
  if (map.relaAt !== undefined) load.push([map.relaAt, map.relaAt + Math.min(map.relaCount, 512) * 24]);
  const symbols: Range[] = [[0, 64]];
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  if (shnum > 0 && shoff + shnum * 64 <= bytes.length) {
    symbols.push([shoff, shoff + shnum * 64]);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * 64;
      const type = v.getUint32(at + 4, true);
      if (type !== 2 && type !== 3) continue;
      const offset = Number(v.getBigUint64(at + 24, true));
      const size = Number(v.getBigUint64(at + 32, true));
      symbols.push([offset, offset + Math.min(size, 4096)]);
      if (size > 4096) symbols.push([offset + size - 256, offset + size]);
    }
  }
  return { load, symbols };
}

/** ELF seeds: builder variants and, when built, the fixture guests. */
function elfSeeds(which: 'load' | 'symbols'): Seed[] {
  const strtab = new TextEncoder().encode('\0_start\0counter\0greetings\0hl_main\0h\u00e9llo_\u4e16\u754c\0');
  const symbols = [
    { name: 1, value: 0x1000n, size: 4n, type: STT_FUNC },
    { name: 8, value: 0x20f0n, size: 4n, type: STT_OBJECT },
    { name: 16, value: 0x2100n, size: 16n, type: STT_OBJECT },
    { name: 26, value: 0x1002n, size: 2n, type: STT_FUNC },
    { name: 20, value: 0x2100n, size: 0n, type: STT_OBJECT }, // a name that is the tail of another
    { name: 34, value: 0x1003n, type: STT_FUNC },
    { name: 0, value: 0n, type: 4 /* STT_FILE */ },
    { name: 8, value: 0n, type: STT_OBJECT, shndx: 0 /* undefined */ },
  ];
  const built: [string, Uint8Array][] = [
    ['PIE with a symbol table', buildElf(withSymbols(symbols, strtab))],
    ['PIE with an empty symbol table', buildElf(withSymbols([], Uint8Array.of(0)))],
    ['crowded PIE with symbols', buildElf(withSymbols(symbols, strtab, crowdedPie({ segments: 5, relocations: 3 })))],
  ];
  if (which === 'load') {
    built.push(
      ['minimal PIE', buildElf(minimalPie())],
      ['PIE linked at 0x7000_0000', buildElf(minimalPie({ shift: 0x7000_0000n }))],
      ['PIE with 3 relocations', buildElf(minimalPie({ relocations: [[0x20f0n, R_X86_64_RELATIVE, 0x1000n], [0x20f8n, 0, 0n], [0x2100n, R_X86_64_RELATIVE, -8n]] }))],
      ['PIE with extra dynamic tags', buildElf(minimalPie({ extraDynamic: [[0x15n, 0n], [0x6ffffffbn, 0x8000001n]] }))],
      ['crowded PIE (12 segments, 40 relocations)', buildElf(crowdedPie({ segments: 12, relocations: 40 }))],
    );
  }
  if (existsSync(GUEST_DIR)) {
    for (const file of readdirSync(GUEST_DIR).filter((f) => f.endsWith('.elf')).sort()) {
      built.push([`fixtures/guests/out/${file}`, new Uint8Array(readFileSync(join(GUEST_DIR, file)))]);
    }
  }
  return built.map(([name, bytes]) => ({ name, bytes, hot: elfRanges(bytes)[which] }));
}

/** What every accepted image promises the layout and loader (the elf-loader tests check the same). */
function checkImage(image: ElfImage, fileSize: number): void {
  check(image.imageSize > 0 && image.imageSize % PAGE_SIZE === 0, `imageSize ${image.imageSize} is not a positive multiple of a page`);
  check(image.imageSize <= MAX_GUEST_MEMORY_SIZE, `imageSize ${image.imageSize} exceeds MAX_GUEST_MEMORY_SIZE`);
  let previousEnd = 0;
  for (const s of image.segments) {
    check(!(s.writable && s.executable), `segment at ${s.offset} is writable and executable`);
    check(s.fileSize <= s.memSize, `segment at ${s.offset}: fileSize > memSize`);
    check(s.fileOffset + s.fileSize <= fileSize, `segment at ${s.offset}: file data past the end of the file`);
    check(Math.floor(s.offset / PAGE_SIZE) * PAGE_SIZE >= previousEnd, `segment at ${s.offset} overlaps or shares a page`);
    previousEnd = Math.ceil((s.offset + s.memSize) / PAGE_SIZE) * PAGE_SIZE;
  }
  check(previousEnd === image.imageSize, `last segment ends at ${previousEnd}, imageSize is ${image.imageSize}`);
  check(
    image.segments.some((s) => s.executable && image.entryOffset >= s.offset && image.entryOffset < s.offset + s.memSize),
    `entry ${image.entryOffset} is not in an executable segment`,
  );
  for (const r of image.relocations) {
    check(
      image.segments.some((s) => r.offset >= s.offset && r.offset + 8 <= s.offset + s.memSize),
      `relocation at ${r.offset} does not lie inside one segment`,
    );
  }
}

let loadArea: Uint8Array | undefined;

const elfLoad: FuzzTarget = {
  name: 'elf-load',
  description: 'parseElf, then loadElf of what it accepts (images up to 16 MiB), with the image invariants checked',
  seeds: () => elfSeeds('load'),
  dictionary: ELF_DICTIONARY,
  run(input) {
    const image = parseElf(input);
    checkImage(image, input.length);
    if (image.imageSize > LOAD_AREA_SIZE) return 'parsed (too big to load here)';
    loadArea ??= new Uint8Array(LOAD_AREA_SIZE);
    const memory = loadArea.subarray(0, image.imageSize);
    const { entryGva } = loadElf(image, input, memory, LOAD_GVA);
    check(entryGva === LOAD_GVA + BigInt(image.entryOffset), `entryGva ${entryGva} is not the load address plus entryOffset`);
    const last = image.relocations.at(-1);
    if (last) {
      const stored = new DataView(memory.buffer, memory.byteOffset).getBigUint64(last.offset, true);
      check(stored === BigInt.asUintN(64, LOAD_GVA - image.vaddrBase + last.addend), `relocation at ${last.offset} not applied`);
    }
    return 'loaded';
  },
};

const elfSymbols: FuzzTarget = {
  name: 'elf-symbols',
  description: 'readElfSymbols, with the result checked sorted and within the name limits',
  seeds: () => elfSeeds('symbols'),
  dictionary: ELF_DICTIONARY,
  run(input) {
    const symbols = readElfSymbols(input);
    check(symbols.length <= MAX_SYMBOLS, `${symbols.length} symbols`);
    let names = 0;
    for (let i = 0; i < symbols.length; i++) {
      const s = symbols[i]!;
      names += s.name.length;
      check(s.kind === 'function' || s.kind === 'object', `symbol ${i} has kind ${String(s.kind)}`);
      check(i === 0 || symbols[i - 1]!.value <= s.value, `symbols are not sorted at ${i}`);
    }
    check(names <= MAX_SYMBOL_NAMES_SIZE, `names add up to ${names} UTF-16 units`);
    return symbols.length === 0 ? 'no symbols' : 'symbols';
  },
};

// ---------------------------------------------------------------------------
// Messages

/** Structural equality that tells -0 from 0, treats NaN as equal to itself and compares bytes. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

/** A guest memory area holding `payload` as a frame, then `slack` zero bytes. */
function frameArea(payload: Uint8Array, slack: number): Uint8Array {
  const area = new Uint8Array(4 + payload.length + slack);
  writeFrame(area, payload, 'seed', 'fuzz');
  return area;
}

/** Whole-input hot range (frames are small and every byte is structure). */
const WHOLE: Range[] = [];

const MESSAGE_DICTIONARY: readonly Uint8Array[] = [
  ...[0, 1, 4, 6, 8, 10, 11, 255].map((n) => Uint8Array.of(n)), // ValueType / union tags
  ...[0, 4, 8, 12, 16, 0x7fff, 0x8000, 0xffff].map((n) => Uint8Array.of(n & 0xff, n >> 8)), // vtable entries
  ...[0, 4, 8, 0x7fffffff, 0x80000000, 0xfffffffc].map(u32le), // offsets and lengths
];

/**
 * A message target: the input is a guest memory area; `readFrame` takes the
 * payload, `decode` decodes it. Checks that the decoder reads only the
 * payload (bytes appended after it change nothing), that the result survives
 * the guest overwriting the area (decoders copy) and that it re-encodes to
 * the same result.
 */
function messageTarget<T>(
  name: string,
  description: string,
  samples: () => T[],
  encode: (message: T) => Uint8Array,
  decode: (payload: Uint8Array) => T,
): FuzzTarget {
  return {
    name,
    description,
    seeds: () => samples().map((message, i) => {
      const payload = encode(message);
      return { name: `${name} sample ${i}`, bytes: frameArea(payload, [0, 3, 16, 64][i % 4]!), hot: WHOLE };
    }),
    dictionary: MESSAGE_DICTIONARY,
    run(input) {
      const pristine = input.slice();
      const payload = readFrame(input, name);
      check(payload.byteOffset === input.byteOffset + 4 && payload.length <= input.length - 4, 'readFrame returned a payload outside the area');
      const decoded = decode(payload);
      const extended = new Uint8Array(payload.length + 64).fill(0xa5);
      extended.set(payload);
      check(same(decoded, decode(extended)), 'the decoded message depends on bytes after the payload');
      input.fill(0xa5);
      const again = decode(readFrame(pristine, name));
      check(same(decoded, again), 'the decoded message changed when the guest overwrote its buffer');
      const roundTrip = decode(encode(decoded));
      check(same(decoded, roundTrip), 're-encoding the decoded message does not decode to the same message');
      return 'decoded';
    },
  };
}

const SAMPLE_VALUES: readonly TypedValue[] = [
  { type: 'i32', value: -(2 ** 31) },
  { type: 'u32', value: 2 ** 32 - 1 },
  { type: 'i64', value: -(2n ** 63n) },
  { type: 'u64', value: 2n ** 64n - 1n },
  { type: 'f32', value: Math.fround(-1.5) },
  { type: 'f64', value: -0 },
  { type: 'f64', value: Number.NaN },
  { type: 'string', value: '\uFEFFhé 🦀\0!' },
  { type: 'string', value: '' },
  { type: 'bool', value: true },
  { type: 'bytes', value: Uint8Array.of(0, 1, 2, 255) },
  { type: 'bytes', value: new Uint8Array(0) },
  { type: 'void', value: undefined },
];

const functionCalls = (): FunctionCallMessage[] => [
  { functionName: 'Echo', args: SAMPLE_VALUES, returnType: 'string' },
  { functionName: 'Add', args: [{ type: 'i32', value: 1 }, { type: 'i32', value: 2 }], returnType: 'i32' },
  { functionName: '', args: [], returnType: 'void' },
  { functionName: 'x'.repeat(300), args: [{ type: 'bytes', value: new Uint8Array(300).fill(7) }], returnType: 'bytes' },
  ...SAMPLE_VALUES.map((value, i): FunctionCallMessage => ({ functionName: `f${i}`, args: [value], returnType: value.type })),
];

const callResults = (): CallResult[] => [
  ...SAMPLE_VALUES.map((value): CallResult => ({ ok: true, value })),
  { ok: false, code: ErrorCode.GuestFunctionFailed, message: 'nope' },
  { ok: false, code: ErrorCode.FunctionNotFound, message: '' },
  { ok: false, code: ErrorCode.MessageTooLarge, message: 'ü'.repeat(100) },
];

const functionDetails = (): GuestFunctionSignature[][] => [
  [],
  [{ name: 'Add', parameters: ['i32', 'i32'], returnType: 'i32' }, { name: 'Print', parameters: ['string', 'bytes', 'u64'], returnType: 'void' }],
  [{ name: 'Everything', parameters: ['i32', 'u32', 'i64', 'u64', 'f32', 'f64', 'string', 'bool', 'bytes'], returnType: 'f64' }],
  Array.from({ length: 20 }, (_, i) => ({ name: `fn${i}`, parameters: i % 2 ? ['u64' as const] : [], returnType: 'bool' as const })),
];

const logRecords = (): LogRecord[] => [
  { level: LogLevel.Warn, message: 'disk full', target: 'fs', sourceFile: 'fs.rs', line: 42 },
  { level: LogLevel.Trace, message: '', target: '', sourceFile: '', line: 0 },
  { level: LogLevel.Critical, message: '\u001b[31mred\u001b[0m 🦀', target: 'guest::main', sourceFile: 'src/main.rs', line: 2 ** 32 - 1 },
  { level: LogLevel.Info, message: 'm'.repeat(500), target: 't', sourceFile: 'f', line: 7 },
];

const functionCallTarget = messageTarget('function-call', 'readFrame + decodeFunctionCall (verifier, codec), with copy and round-trip checks', functionCalls, encodeFunctionCall, decodeFunctionCall);
const callResultTarget = messageTarget('function-call-result', 'readFrame + decodeFunctionCallResult, with copy and round-trip checks', callResults, encodeFunctionCallResult, decodeFunctionCallResult);
const detailsTarget = messageTarget('guest-function-details', 'readFrame + decodeGuestFunctionDetails, with copy and round-trip checks', functionDetails, encodeGuestFunctionDetails, decodeGuestFunctionDetails);
const logRecordTarget = messageTarget('log-record', 'readFrame + decodeLogRecord, with copy and round-trip checks', logRecords, encodeLogRecord, decodeLogRecord);

/** Where the in-place targets re-encode what they decoded, with the in-place encoders (grown as needed). */
let scratch = new Uint8Array(0);

/**
 * `scratch`, big enough for anything decoded from a `frameSize`-byte frame
 * re-encoded: aliased data decodes once per reference (at most twice the
 * message), and each invalid UTF-8 byte becomes a 3-byte U+FFFD.
 */
function scratchArea(frameSize: number): Uint8Array {
  const size = 6 * frameSize + 256;
  if (scratch.length < size) scratch = new Uint8Array(size);
  return scratch;
}

/** Where {@link inPlaceResultTarget} has byte arrays copied; refilled with {@link UNWRITTEN} before each input. */
let destination = new Uint8Array(0);
const UNWRITTEN = 0xee;

/**
 * The decoder of the call path, which reads the output buffer in place,
 * checked against codec.ts (the same value, or a GuestProtocolError with the
 * same message), with byte arrays copied into a destination as `with({ into })`
 * does: the destination is asked for once, for an accepted byte array only,
 * and nothing else of it is written. What it accepts is re-encoded with the
 * in-place encoder (as the host writes host-call replies), which must decode
 * to the same result.
 */
const inPlaceResultTarget: FuzzTarget = {
  name: 'function-call-result-in-place',
  description: 'ResultDecoder.decodeFrame (the call path) against readFrame + decodeFunctionCallResult, with and without a destination for byte arrays',
  seeds: () => [...callResults(), { ok: true, value: { type: 'bytes', value: new Uint8Array(5000).fill(3) } } satisfies CallResult].map((result, i) => ({
    name: `in-place result sample ${i}`,
    bytes: frameArea(encodeFunctionCallResult(result), [0, 3, 16, 64][i % 4]!),
    hot: WHOLE,
  })),
  dictionary: MESSAGE_DICTIONARY,
  run(input) {
    let reference: CallResult | HyperlightError;
    try {
      reference = decodeFunctionCallResult(readFrame(input, 'guest output'));
    } catch (error) {
      if (!(error instanceof HyperlightError)) throw error;
      reference = error;
    }
    if (destination.length < input.length) destination = new Uint8Array(input.length);
    destination.fill(UNWRITTEN);
    const requests: number[] = [];
    const decoder = new ResultDecoder(input);
    let decoded: CallResult;
    try {
      decoded = decoder.decodeFrame('guest output', (byteLength) => {
        requests.push(byteLength);
        return destination.subarray(0, byteLength);
      });
    } catch (error) {
      const agrees = reference instanceof HyperlightError && error instanceof HyperlightError && error.message === reference.message;
      check(agrees, `the in-place decoder threw "${(error as Error).message}"; codec.ts ${reference instanceof HyperlightError ? `threw "${reference.message}"` : 'accepted it'}`);
      check(requests.length === 0 && destination.every((b) => b === UNWRITTEN), 'a rejected message wrote to the destination');
      throw error;
    }
    check(!(reference instanceof HyperlightError), `the in-place decoder accepted what codec.ts rejects: ${(reference as Error).message}`);
    check(same(decoded, reference), 'the in-place decoder and codec.ts decode different results');
    const bytes = decoded.ok && decoded.value.type === 'bytes' ? decoded.value.value : undefined;
    check(same(requests, bytes ? [bytes.length] : []), `the destination was asked for ${JSON.stringify(requests)}`);
    check(!bytes || bytes.buffer === destination.buffer, 'a byte array did not go to the destination');
    check(destination.subarray(bytes?.length ?? 0).every((b) => b === UNWRITTEN), 'bytes past the result were written to the destination');
    const copied = decoder.decodeFrame('guest output');
    input.fill(0xa5);
    check(same(copied, reference), 'the decoded result changed when the guest overwrote its buffer');
    const area = scratchArea(input.length);
    check(new ResultEncoder(area).encode(reference) >= 0, 'the re-encoded result does not fit');
    check(same(decodeFunctionCallResult(readFrame(area)), reference), 'the result re-encoded by ResultEncoder decodes to another result');
    return 'decoded';
  },
};

/**
 * The decoder of host calls, which reads the output buffer in place, checked
 * against codec.ts; what it accepts is re-encoded with the in-place call
 * encoder (as the host writes calls), which must decode to the same call.
 */
const inPlaceCallTarget: FuzzTarget = {
  name: 'function-call-in-place',
  description: 'CallDecoder.decodeFrame (host calls) against readFrame + decodeFunctionCall, with a copy check',
  seeds: () => functionCalls().map((call, i) => ({
    name: `in-place call sample ${i}`,
    bytes: frameArea(encodeFunctionCall(call), [0, 3, 16, 64][i % 4]!),
    hot: WHOLE,
  })),
  dictionary: MESSAGE_DICTIONARY,
  run(input) {
    let reference: FunctionCallMessage | HyperlightError;
    try {
      reference = decodeFunctionCall(readFrame(input, 'guest output'));
    } catch (error) {
      if (!(error instanceof HyperlightError)) throw error;
      reference = error;
    }
    let decoded: FunctionCallMessage;
    try {
      decoded = new CallDecoder(input).decodeFrame('guest output');
    } catch (error) {
      const agrees = reference instanceof HyperlightError && error instanceof HyperlightError && error.message === reference.message;
      check(agrees, `the in-place decoder threw "${(error as Error).message}"; codec.ts ${reference instanceof HyperlightError ? `threw "${reference.message}"` : 'accepted it'}`);
      throw error;
    }
    check(!(reference instanceof HyperlightError), `the in-place decoder accepted what codec.ts rejects: ${(reference as Error).message}`);
    input.fill(0xa5);
    check(same(decoded, reference), 'the in-place decoder and codec.ts decode different calls, or its call changed when the guest overwrote its buffer');
    const area = scratchArea(input.length);
    check(encodeCallInto(area, reference) >= 0, 'the re-encoded call does not fit');
    check(same(decodeFunctionCall(readFrame(area)), reference), 'the call re-encoded by CallEncoder decodes to another call');
    return 'decoded';
  },
};

/** A log area holding `records`, each framed and padded to 4 bytes, then `slack` zero bytes. */
function logArea(records: readonly LogRecord[], slack: number): Uint8Array {
  const frames = records.map((record) => frameArea(encodeLogRecord(record), 0));
  const used = frames.reduce((sum, frame) => sum + Math.ceil(frame.length / 4) * 4, 0);
  const area = new Uint8Array(4 + used + slack);
  new DataView(area.buffer).setUint32(0, used, true);
  let at = 4;
  for (const frame of frames) {
    area.set(frame, at);
    at += Math.ceil(frame.length / 4) * 4;
  }
  return area;
}

const logAreaTarget: FuzzTarget = {
  name: 'log-area',
  description: 'drainLogArea, checking the used count is reset even when it throws and the records are copies',
  seeds: () => {
    const records = logRecords();
    return [
      logArea([], 16), logArea(records.slice(0, 1), 0), logArea(records, 32), logArea([...records, ...records], 4),
    ].map((bytes, i) => ({ name: `log area ${i}`, bytes, hot: WHOLE }));
  },
  dictionary: MESSAGE_DICTIONARY,
  run(input) {
    const pristine = input.slice();
    const usedCount = () => new DataView(input.buffer, input.byteOffset, input.byteLength).getUint32(0, true);
    let records: LogRecord[];
    try {
      records = drainLogArea(input);
    } catch (error) {
      if (input.length >= 4) check(usedCount() === 0, 'a malformed log area was not reset');
      throw error;
    }
    if (input.length >= 4) check(usedCount() === 0, 'the log area was not reset');
    input.fill(0xa5);
    check(same(records, drainLogArea(pristine)), 'drained records changed when the guest overwrote the log area');
    return records.length === 0 ? 'empty' : 'records';
  },
};

const textFrameTarget: FuzzTarget = {
  name: 'text-frame',
  description: 'readTextFrame (abort and panic messages)',
  seeds: () => ['', 'guest panicked at src/lib.rs:1:1', '\uFEFFü🦀', 'x'.repeat(1000)].map((text, i) => ({
    name: `text frame ${i}`,
    bytes: frameArea(new TextEncoder().encode(text), i * 3),
    hot: WHOLE,
  })),
  dictionary: [Uint8Array.of(0xef, 0xbb, 0xbf), Uint8Array.of(0xf0, 0x9f), Uint8Array.of(0xc3), ...[0, 4, 0xffffffff].map(u32le)],
  run(input) {
    const text = readTextFrame(input);
    check(text === decodeText(readFrame(input)), 'readTextFrame differs from decodeText(readFrame)');
    return 'read';
  },
};

/** Every target, in report order. */
export const TARGETS: readonly FuzzTarget[] = [
  elfLoad, elfSymbols, functionCallTarget, inPlaceCallTarget, callResultTarget, inPlaceResultTarget, detailsTarget, logRecordTarget, logAreaTarget, textFrameTarget,
];

/**
 * Deliberately broken targets for `pnpm fuzz --self-test`, which checks that
 * the harness reports each kind of finding. Each misbehaves on inputs whose
 * length is 5 modulo 16 (mutations that insert, delete or truncate reach one
 * within a few inputs) and accepts the rest.
 */
export const SELF_TEST_TARGETS: readonly (FuzzTarget & { readonly expect: string })[] = (
  [
    ['unexpected-error', () => { throw new TypeError('self-test: not a HyperlightError'); }],
    ['oracle', () => check(false, 'self-test: broken invariant')],
    ['hang', () => { for (;;) { /* spin until the supervisor kills the runner */ } }],
    ['crash', () => {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1 << 20).fill(hog.length));
    }],
  ] as const
).map(([expect, misbehave]) => ({
  name: `self-test-${expect}`,
  description: `reports a ${expect} finding`,
  expect,
  seeds: () => [{ name: 'sixteen bytes', bytes: new Uint8Array(16).fill(7), hot: WHOLE }],
  dictionary: [],
  run(input: Uint8Array) {
    if (input.length % 16 === 5) misbehave();
    return 'fine';
  },
}));

/** How one run of a target ended, as the runner classifies it. */
export type Outcome =
  | { readonly kind: 'ok'; readonly label: string }
  | { readonly kind: 'finding'; readonly problem: 'unexpected-error' | 'oracle'; readonly error: SerializedError };

/** An error as plain data, to cross process boundaries. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack: string;
}

function serialize(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack ?? '' };
  return { name: typeof error, message: String(error), stack: '' };
}

/** Runs one input and classifies the result: a label, a HyperlightError's code, or a finding. */
export function runOne(target: FuzzTarget, input: Uint8Array): Outcome {
  try {
    return { kind: 'ok', label: target.run(input) };
  } catch (error) {
    if (error instanceof OracleViolation) return { kind: 'finding', problem: 'oracle', error: serialize(error) };
    if (error instanceof HyperlightError) return { kind: 'ok', label: error.code };
    return { kind: 'finding', problem: 'unexpected-error', error: serialize(error) };
  }
}
