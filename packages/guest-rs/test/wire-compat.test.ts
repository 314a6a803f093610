// Our hand-written FlatBuffers builder against the official implementation:
// flatc verifies and decodes every kind of frame the Rust runtime writes.
// (The reverse direction, frames written by flatc read by our reader, is a
// Rust unit test over crates/hyperlight-guest/src/wire/golden.)
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cargo, packageDir } from './helpers.js';

const schemaDir = join(packageDir, '..', '..', 'schema');
const haveFlatc = spawnSync('flatc', ['--version']).status === 0;
let samples = '';

/** flatc's JSON for a sample (with defaults, so every field shows). */
async function decode(sample: string, schema: string): Promise<unknown> {
  const r = spawnSync(
    'flatc',
    ['--json', '--strict-json', '--defaults-json', '--raw-binary', '--size-prefixed', '-o', samples, join(schemaDir, schema), '--', join(samples, `${sample}.bin`)],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(await readFile(join(samples, `${sample}.json`), 'utf8'));
}

describe.skipIf(!haveFlatc)('frames written by the Rust runtime', () => {
  beforeAll(async () => {
    samples = await mkdtemp(join(tmpdir(), 'wire-samples-'));
    const r = cargo(packageDir, ['test', '--offline', '-p', 'hyperlight-guest', '--lib', 'wire::tests::dump_samples_for_flatc'], { HL_WIRE_SAMPLES_DIR: samples });
    expect(r.status, r.stderr).toBe(0);
  });
  afterAll(() => rm(samples, { recursive: true, force: true }));

  it('FunctionCall carries every value type exactly', async () => {
    expect(await decode('call_all_types', 'function_call.fbs')).toEqual({
      function_name: 'AllTypes',
      arguments: [
        { value_type: 'I32Value', value: { value: -2147483648 } },
        { value_type: 'U32Value', value: { value: 4294967295 } },
        { value_type: 'I64Value', value: { value: -9223372036854775808 } },
        { value_type: 'U64Value', value: { value: 18446744073709551615 } },
        { value_type: 'F32Value', value: { value: -0.0 } },
        { value_type: 'F64Value', value: { value: -2.5e300 } },
        { value_type: 'StringValue', value: { value: 'héllo' } },
        { value_type: 'BoolValue', value: { value: true } },
        { value_type: 'BytesValue', value: { value: [0, 1, 2, 255] } },
      ],
      return_type: 'String',
    });
    expect(await decode('call_no_args', 'function_call.fbs')).toEqual({ function_name: 'NoArgs', arguments: [], return_type: 'Void' });
  });

  it('FunctionCallResult keeps -0.0 (scalars equal to the default are still written)', async () => {
    const bytes = await readFile(join(samples, 'result_f64_neg_zero.bin'));
    expect(bytes.includes(Buffer.from(new Float64Array([-0]).buffer))).toBe(true);
    const f32 = await readFile(join(samples, 'result_f32_neg_zero.bin'));
    expect(f32.includes(Buffer.from(new Float32Array([-0]).buffer))).toBe(true);
    expect(await decode('result_void', 'function_call_result.fbs')).toEqual({ outcome_type: 'ReturnValue', outcome: { value_type: 'VoidValue', value: {} } });
    expect(await decode('result_bytes', 'function_call_result.fbs')).toEqual({
      outcome_type: 'ReturnValue',
      outcome: { value_type: 'BytesValue', value: { value: [1, 2, 3] } },
    });
    expect(await decode('result_error', 'function_call_result.fbs')).toEqual({
      outcome_type: 'CallError',
      outcome: { code: 'WrongArgumentCount', message: 'bad count' },
    });
  });

  it('GuestFunctionDetails lists signatures', async () => {
    expect(await decode('details', 'guest_function_details.fbs')).toEqual({
      functions: [
        { name: 'Echo', parameters: ['String'], return_type: 'String' },
        { name: 'Nothing', parameters: [], return_type: 'Void' },
      ],
    });
  });
});
