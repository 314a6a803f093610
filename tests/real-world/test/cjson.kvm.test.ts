/**
 * cJSON 1.7.15, built unmodified with its own CMake flags into a guest, against
 * the same library and wrapper built natively: every report (prints, minified
 * text, number bits, error offsets, JSON-patch results) must be byte-identical.
 */
import type { MultiUseSandbox } from '@hyperlight-ts/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { artifacts } from './support/artifacts.js';
import { CJSON_PARSE_ERROR, parseRecord, patchSuiteRecord, VERSION_RECORD } from './support/cjson-ops.js';
import { compareWithNative, describeHypervisor, guestSandbox, runGuest } from './support/guests.js';
import { cjsonOwnInputs, generatedJson, patchSuites } from './support/json-corpus.js';

describeHypervisor('cJSON 1.7.15 in a guest gives what the native build gives', () => {
  const corpus = artifacts('cjson').corpus;
  const printed: string[] = [];
  let sandbox: MultiUseSandbox;
  beforeAll(() => {
    sandbox = guestSandbox('cjson', printed);
  });
  afterAll(() => sandbox?.dispose());

  it('on cJSON\'s own test inputs', () => {
    const inputs = cjsonOwnInputs(corpus);
    const { differences, guest } = compareWithNative('cjson', sandbox, inputs.map(parseRecord));
    expect(differences).toEqual([]);
    // Only test6 (an HTML page) is not JSON.
    expect(inputs.filter((_, i) => guest[i]?.status !== 0).map((i) => i.name)).toEqual(['tests/inputs/test6', 'fuzzing/inputs/test6']);
  });

  it('on generated documents: numbers, unicode escapes, nesting, invalid documents', () => {
    const inputs = generatedJson();
    const { differences, guest } = compareWithNative('cjson', sandbox, inputs.map(parseRecord));
    expect(differences).toEqual([]);
    const status = (name: string) => guest[inputs.findIndex((i) => i.name === name)]?.status;
    expect(status('nesting/arrays-1000')).toBe(0);
    expect(status('nesting/arrays-1001')).toBe(CJSON_PARSE_ERROR);
    expect(status('strings/lone-high-surrogate')).toBe(CJSON_PARSE_ERROR);
    expect(status('numbers/random-doubles')).toBe(0);
  });

  it('on the JSON-patch suites (apply, compare, generate patches and merge patches)', () => {
    const { differences, guest } = compareWithNative('cjson', sandbox, [...patchSuites(corpus).map(patchSuiteRecord), VERSION_RECORD]);
    expect(differences).toEqual([]);
    expect(Buffer.from(guest.at(-1)!.data).toString()).toBe('1.7.15');
  });

  it('through ParseAndPrint and PatchSuite as through Batch', () => {
    const doc = '{"pi": 3.141592653589793, "s": "\\u00e9\\ud83d\\ude00", "n": [0.1, 1e300, -0]}';
    const [batch] = runGuest(sandbox, [parseRecord({ name: 'doc', data: new TextEncoder().encode(doc) })]);
    expect(sandbox.call('ParseAndPrint', 'string', doc)).toBe(Buffer.from(batch!.data).toString('utf8'));
    expect(sandbox.call('ParseAndPrint', 'string', '[1, 2,')).toMatch(/^error at \d+\n$/);
    const suite = patchSuites(corpus)[0]!;
    const [suiteBatch] = runGuest(sandbox, [patchSuiteRecord(suite)]);
    expect(sandbox.call('PatchSuite', 'string', Buffer.from(suite.data).toString('utf8'))).toBe(Buffer.from(suiteBatch!.data).toString('utf8'));
  });

  it('refuses a malformed batch with an error and stays usable', () => {
    const truncated = Uint8Array.of(1, 0, 0, 0, 0, 100, 0, 0, 0, 0x7b); // claims 100 bytes, carries 1
    expect(() => sandbox.call('Batch', 'bytes', truncated)).toThrow(/malformed batch request/);
    expect(sandbox.call('ParseAndPrint', 'string', '[]')).toContain('unformatted 2\n[]\n');
  });

  it('printed nothing on the way', () => {
    expect(printed).toEqual([]);
  });
});
