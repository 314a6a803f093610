/**
 * Cross-checks against the official implementation: flatc must read what our
 * encoders write (flatc 2.0.8 reads binaries without verifying them, so this
 * checks layout and contents, not robustness), and our decoders must read what
 * flatc builds from JSON, including its alignment.
 * Skipped when flatc is not installed (`apt-get install flatbuffers-compiler`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeFunctionCall, decodeFunctionCallResult, decodeGuestFunctionDetails, decodeLogRecord, ErrorCode, LogLevel,
} from '../../src/protocol/codec.js';
import { readFrame, writeFrame } from '../../src/protocol/framing.js';
import { SAMPLE_PAYLOADS } from './helpers.js';

const schemaDir = fileURLToPath(new URL('../../../../schema/', import.meta.url));
const hasFlatc = spawnSync('flatc', ['--version']).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'flatc-compat-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function frame(payload: Uint8Array): Uint8Array {
  const area = new Uint8Array(payload.length + 4);
  writeFrame(area, payload, 'sample', 'test');
  return area;
}

function flatc(args: string[]): void {
  const run = spawnSync('flatc', args, { cwd: scratch, encoding: 'utf8' });
  expect(run.status, `flatc ${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(0);
}

/** Converts a frame to JSON with flatc. */
function toJson(name: string, schema: string, payload: Uint8Array): unknown {
  writeFileSync(join(scratch, `${name}.bin`), frame(payload));
  flatc(['--json', '--strict-json', '--defaults-json', '--raw-binary', '--size-prefixed', join(schemaDir, schema), '--', `${name}.bin`]);
  return JSON.parse(readFileSync(join(scratch, `${name}.json`), 'utf8'));
}

/** Builds a size-prefixed payload from JSON with flatc. */
function fromJson(name: string, schema: string, json: unknown): Uint8Array {
  writeFileSync(join(scratch, `${name}.json`), JSON.stringify(json));
  flatc(['--binary', '--force-defaults', '--size-prefixed', join(schemaDir, schema), `${name}.json`]);
  return readFrame(new Uint8Array(readFileSync(join(scratch, `${name}.bin`))));
}

describe.skipIf(!hasFlatc)('compatibility with flatc', () => {
  it('flatc reads what the encoders write', () => {
    expect(toJson('call', 'function_call.fbs', SAMPLE_PAYLOADS.FunctionCall)).toMatchObject({
      function_name: 'Echo',
      return_type: 'String',
      arguments: [
        { value_type: 'I32Value', value: { value: -(2 ** 31) } },
        { value_type: 'U32Value', value: { value: 2 ** 32 - 1 } },
        { value_type: 'I64Value' },
        { value_type: 'U64Value' },
        { value_type: 'F32Value', value: { value: -1.5 } },
        { value_type: 'F64Value', value: { value: -0 } },
        { value_type: 'StringValue', value: { value: 'héllo 🦀 世界\u0000!' } },
        { value_type: 'BoolValue', value: { value: true } },
        { value_type: 'BytesValue', value: { value: [0, 1, 2, 255] } },
        { value_type: 'VoidValue' },
      ],
    });
    expect(toJson('result', 'function_call_result.fbs', SAMPLE_PAYLOADS.FunctionCallResult)).toMatchObject({
      outcome_type: 'ReturnValue', outcome: { value_type: 'BytesValue', value: { value: [9, 8, 7] } },
    });
    expect(toJson('error', 'function_call_result.fbs', SAMPLE_PAYLOADS.CallError)).toMatchObject({
      outcome_type: 'CallError', outcome: { code: 'GuestFunctionFailed', message: 'nope' },
    });
    expect(toJson('details', 'guest_function_details.fbs', SAMPLE_PAYLOADS.GuestFunctionDetails)).toMatchObject({
      functions: [{ name: 'Add', parameters: ['I32', 'I32'], return_type: 'I32' }, { name: 'Print', parameters: ['String', 'Bytes', 'U64'], return_type: 'Void' }],
    });
    expect(toJson('log', 'log_record.fbs', SAMPLE_PAYLOADS.LogRecord)).toMatchObject({
      level: 'Warn', message: 'disk full', target: 'fs', source_file: 'fs.rs', line: 42,
    });
  });

  it('the decoders read what flatc builds', () => {
    const call = fromJson('call2', 'function_call.fbs', {
      function_name: 'Mix',
      return_type: 'U64',
      arguments: [
        { value_type: 'I64Value', value: { value: '-9223372036854775808' } },
        { value_type: 'U64Value', value: { value: '18446744073709551615' } },
        { value_type: 'F64Value', value: { value: 0.1 } },
        { value_type: 'StringValue', value: { value: '世界' } },
        { value_type: 'BytesValue', value: { value: [] } },
      ],
    });
    expect(decodeFunctionCall(call)).toEqual({
      functionName: 'Mix',
      returnType: 'u64',
      args: [
        { type: 'i64', value: -(2n ** 63n) },
        { type: 'u64', value: 2n ** 64n - 1n },
        { type: 'f64', value: 0.1 },
        { type: 'string', value: '世界' },
        { type: 'bytes', value: new Uint8Array() },
      ],
    });
    const error = fromJson('error2', 'function_call_result.fbs', { outcome_type: 'CallError', outcome: { code: 'OutOfMemory', message: 'heap' } });
    expect(decodeFunctionCallResult(error)).toEqual({ ok: false, code: ErrorCode.OutOfMemory, message: 'heap' });
    const details = fromJson('details2', 'guest_function_details.fbs', { functions: [{ name: 'F', parameters: ['F32', 'Bool'], return_type: 'Void' }] });
    expect(decodeGuestFunctionDetails(details)).toEqual([{ name: 'F', parameters: ['f32', 'bool'], returnType: 'void' }]);
    const log = fromJson('log2', 'log_record.fbs', { level: 'Critical', message: 'm', line: 7 });
    expect(decodeLogRecord(log)).toEqual({ level: LogLevel.Critical, message: 'm', target: '', sourceFile: '', line: 7 });
  });
});
