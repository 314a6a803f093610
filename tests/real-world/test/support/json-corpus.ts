/**
 * JSON inputs for cJSON: its own test inputs from the tarball, and generated
 * documents aimed at the C library underneath (number formatting and parsing,
 * unicode escapes, nesting limits, invalid documents).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from './seeded-random.js';

/** A corpus entry. */
export interface NamedInput {
  readonly name: string;
  readonly data: Uint8Array;
}

const text = (name: string, s: string): NamedInput => ({ name, data: new TextEncoder().encode(s) });

/** Every file of `dir` except `*.expected`, named `prefix/file`. */
function filesOf(corpus: string, dir: string): NamedInput[] {
  return readdirSync(join(corpus, dir))
    .filter((f) => !f.endsWith('.expected'))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, data: new Uint8Array(readFileSync(join(corpus, dir, f))) }));
}

/**
 * cJSON's own inputs: tests/inputs, the JSON-patch test files (parsed as
 * documents) and fuzzing/inputs, whose first two bytes are the fuzzer's
 * options (afl.c parses from the third byte; so do we).
 */
export function cjsonOwnInputs(corpus: string): NamedInput[] {
  const fuzzing = filesOf(corpus, 'fuzzing/inputs').map((i) => ({ name: i.name, data: i.data.subarray(2) }));
  return [...filesOf(corpus, 'tests/inputs'), ...filesOf(corpus, 'tests/json-patch-tests'), ...fuzzing].filter((i) => i.name.endsWith('.json') || !i.name.includes('json-patch'));
}

/** The JSON-patch test files (arrays of `{doc, patch, expected}`). */
export function patchSuites(corpus: string): NamedInput[] {
  return filesOf(corpus, 'tests/json-patch-tests').filter((i) => i.name.endsWith('tests.json'));
}

/** Numbers whose shortest round trip needs 17 digits, edge magnitudes, and number syntax edges. */
function numberDocuments(): NamedInput[] {
  const edges = [
    '0.1', '0.30000000000000004', '1e21', '1e-7', '123456789012345678901234567890', '9007199254740993', '-0', '-0.0',
    '5e-324', '4.9406564584124654e-324', '2.2250738585072014e-308', '2.2250738580950078e-308', '1.7976931348623157e308',
    '1.7976931348623159e308', '1e400', '-1e400', '1e-400', '3.141592653589793', '2.718281828459045', '0.5e1', '1E+2',
    '1.0000000000000002', '0.9999999999999999', '2147483647', '2147483648', '-2147483648', '-2147483649', '4294967296',
    '100000000000000000000000000000000000000000', '0.000001', '0.0000001', '12345.678e-3',
  ];
  const next = seededRandom(0x4a53);
  const view = new DataView(new ArrayBuffer(8));
  const randomDoubles = Array.from({ length: 400 }, () => {
    view.setUint32(0, Math.floor(next() * 2 ** 32));
    view.setUint32(4, Math.floor(next() * 2 ** 32));
    const d = view.getFloat64(0);
    return Number.isFinite(d) ? String(d) : '0';
  });
  const ratios = Array.from({ length: 200 }, (_, i) => ((i + 1) / 7) * 10 ** ((i % 40) - 20)).map((d) => d.toPrecision(17));
  return [
    text('numbers/edges', `[${edges.join(',')}]`),
    ...edges.map((e, i) => text(`numbers/edge-${i}`, e)),
    text('numbers/random-doubles', `[${randomDoubles.join(',')}]`),
    text('numbers/17-digit-ratios', `{"values":[${ratios.join(',')}]}`),
    text('numbers/integers', `[${Array.from({ length: 64 }, (_, i) => String(2 ** i - 1)).join(',')}]`),
  ];
}

/** Strings: escapes of every kind, surrogate pairs, raw UTF-8, and broken escapes. */
function stringDocuments(): NamedInput[] {
  const controls = Array.from({ length: 32 }, (_, i) => `\\u${i.toString(16).padStart(4, '0')}`).join('');
  return [
    text('strings/escapes', `["\\"\\\\\\/\\b\\f\\n\\r\\t", "${controls}", "\\u007f\\u0080\\u07ff\\u0800\\uffff"]`),
    text('strings/surrogates', '["\\ud83d\\ude00", "\\uD834\\uDD1E", "a\\ud800\\udc00b"]'),
    text('strings/raw-utf8', JSON.stringify({ 'clé': 'valeur', 日本: '語', emoji: '🦀🐍', mixed: 'a\u00e9\u4e2d\ud83d\ude00' })),
    text('strings/long', JSON.stringify({ s: 'x'.repeat(100_000), t: 'é'.repeat(10_000) })),
    text('strings/lone-high-surrogate', '["\\ud800"]'),
    text('strings/lone-low-surrogate', '["\\udc00"]'),
    text('strings/high-then-ascii', '["\\ud800\\u0041"]'),
    text('strings/bad-hex', '["\\u12g4"]'),
    text('strings/short-escape', '["\\u12"]'),
    text('strings/unknown-escape', '["\\x41"]'),
    text('strings/raw-control', '["a\u0001b"]'),
    text('strings/unterminated', '["abc'),
  ];
}

/** Nesting around cJSON's limit of 1000 levels (CJSON_NESTING_LIMIT). */
function nestingDocuments(): NamedInput[] {
  const arrays = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const objects = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  return [
    text('nesting/arrays-999', arrays(999)),
    text('nesting/arrays-1000', arrays(1000)),
    text('nesting/arrays-1001', arrays(1001)),
    text('nesting/objects-999', objects(999)),
    text('nesting/objects-1001', objects(1001)),
    text('nesting/mixed-500', '[{"k":'.repeat(250) + 'null' + '}]'.repeat(250)),
  ];
}

/** Documents cJSON must reject (or accept with trailing data, as its parse end shows). */
function invalidDocuments(): NamedInput[] {
  const cases = [
    '', ' ', '{', '}', '[', '[1,]', '[,1]', '{"a" 1}', '{"a":1,}', '{1:2}', '01', '1.', '.5', '+1', '-', '1e', '1e+',
    'tru', 'nul', 'fals', 'NaN', 'Infinity', '-Infinity', '[1 2]', '[]]', '[] x', '{"a":1}{"b":2}', "'single'", '[true false]',
    '{"a":[1,{"b":}]}', '\u00ef\u00bb\u00bf{}', '"a"  ', '\t\n [ \r\n1 ] \n',
  ];
  return [
    ...cases.map((c, i) => text(`invalid/${i}`, c)),
    { name: 'invalid/embedded-nul', data: new TextEncoder().encode('{"a":1}\u0000{"b":2}') },
    { name: 'invalid/nul-in-string', data: new TextEncoder().encode('["a\u0000b"]') },
    { name: 'invalid/bad-utf8', data: Uint8Array.from([0x5b, 0x22, 0xff, 0xfe, 0xc0, 0x80, 0x22, 0x5d]) },
    { name: 'invalid/utf8-bom', data: Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]) },
  ];
}

/** A large document of seeded random records. */
function largeDocument(): NamedInput {
  const next = seededRandom(0xc0ffee);
  const words = ['alpha', 'beta', 'gamma', 'delta', 'ε', '名前', 'quote"d', 'back\\slash', 'tab\there'];
  const records = Array.from({ length: 3000 }, (_, i) => ({
    id: i,
    name: words[Math.floor(next() * words.length)],
    score: next() * 1e6 - 5e5,
    ratio: next(),
    tiny: next() * 1e-300,
    active: next() < 0.5,
    tags: Array.from({ length: Math.floor(next() * 5) }, () => words[Math.floor(next() * words.length)]),
    nested: next() < 0.3 ? { deeper: { value: null, list: [1, 2.5, -3e-5] } } : null,
  }));
  return text('generated/large-records', JSON.stringify({ records }, null, 2));
}

/** Every generated document. */
export function generatedJson(): NamedInput[] {
  return [...numberDocuments(), ...stringDocuments(), ...nestingDocuments(), ...invalidDocuments(), largeDocument()];
}
