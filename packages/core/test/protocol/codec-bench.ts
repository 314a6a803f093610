/**
 * Micro-benchmark of the host side of one guest call's messages: encoding
 * the `FunctionCall` into the input buffer and decoding the
 * `FunctionCallResult` from the output buffer, with codec.ts (+ framing.ts)
 * and with the in-place call-encoder.ts / result-decoder.ts, in one run.
 * Not a test: timings depend on the machine.
 *
 *   pnpm exec tsx packages/core/test/protocol/codec-bench.ts [--rounds 9]
 *
 * Each figure is the median over rounds of the mean ns per operation in a
 * round; old and new run alternately in every round, so load on the machine
 * hits both alike.
 */
import { parseArgs } from 'node:util';
import { CallEncoder, planCall } from '../../src/protocol/call-encoder.js';
import { decodeFunctionCallResult, encodeFunctionCall, encodeFunctionCallResult, type CallResult } from '../../src/protocol/codec.js';
import { readFrame, writeFrame } from '../../src/protocol/framing.js';
import { ResultDecoder } from '../../src/protocol/result-decoder.js';
import type { ParameterTypeName, TypedValue } from '../../src/protocol/values.js';

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '9' } } });
const rounds = Number(options.rounds);

const MIB = 1 << 20;
const input = new Uint8Array(new ArrayBuffer(4 * MIB));
const output = new Uint8Array(new ArrayBuffer(4 * MIB));
const encoder = new CallEncoder(input);
const decoder = new ResultDecoder(output);

let sink = 0;
/** Keeps results alive enough that the optimiser cannot drop the work. */
function consume(result: CallResult | number): void {
  sink += typeof result === 'number' ? result : result.ok ? 1 : 0;
}

/** Mean ns per call of `fn` over `iterations` calls. */
function time(fn: () => void, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

/** Runs each of `cases` for `iterations` per round, alternating, and prints the medians. */
function compare(title: string, iterations: number, cases: Record<string, () => void>): Record<string, number> {
  const samples: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(cases)) {
    time(fn, Math.max(10, iterations >> 2)); // warm up (and let the JIT settle)
    samples[name] = [];
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) samples[name]!.push(time(fn, iterations));
  }
  const medians = Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
  console.log(`\n${title}`);
  for (const [name, ns] of Object.entries(medians)) console.log(`  ${name.padEnd(46)} ${format(ns)}`);
  return medians;
}

function format(ns: number): string {
  return ns >= 10_000 ? `${(ns / 1000).toFixed(1).padStart(9)} µs` : `${ns.toFixed(1).padStart(9)} ns`;
}

/** One call shape: its argument, and the result the guest answers with. */
function scenario(title: string, type: ParameterTypeName, value: TypedValue['value'], iterations: number): void {
  const name = `Echo_${type}`;
  const plan = planCall(name, [type], type);
  const typed = [{ type, value }] as TypedValue[];
  const args = [value];
  const what = `call of "${name}"`;
  const result = encodeFunctionCallResult({ ok: true, value: typed[0]! });
  writeFrame(output, result, 'result', 'outputSize');

  compare(`${title}: encode FunctionCall into the input buffer`, iterations, {
    'codec.ts encodeFunctionCall + writeFrame': () => writeFrame(input, encodeFunctionCall({ functionName: name, args: typed, returnType: type }), what, 'inputSize'),
    'CallEncoder.encode (cached plan)': () => consume(encoder.encode(plan, args)),
  });
  compare(`${title}: decode FunctionCallResult from the output buffer`, iterations, {
    'readFrame + codec.ts decodeFunctionCallResult': () => consume(decodeFunctionCallResult(readFrame(output))),
    'ResultDecoder.decodeFrame': () => consume(decoder.decodeFrame()),
  });
}

console.log(`node ${process.version}, ${rounds} rounds, median of per-round means`);
scenario('i32 (scalar)', 'i32', 42, 200_000);
scenario('1000-char ASCII string', 'string', 'x'.repeat(1000), 50_000);
scenario('1000-char non-ASCII string', 'string', 'héllo wörld ✓ '.repeat(72).slice(0, 1000), 50_000);
const mib = new Uint8Array(MIB).map((_, i) => i * 7);
scenario('1 MiB bytes', 'bytes', mib, 200);

const scratch = new Uint8Array(MIB);
compare('1 MiB memcpy baselines', 200, {
  'Uint8Array#set into an existing buffer': () => scratch.set(mib),
  'Uint8Array#slice (a fresh copy)': () => consume(mib.slice().byteLength),
  'new Uint8Array (fresh memory, no copy)': () => consume(new Uint8Array(MIB).byteLength),
});
console.log('\nA decoded byte array must be a fresh copy (the guest may overwrite its buffer), so decoding 1 MiB');
console.log('costs at least a fresh copy; where page faults are expensive (nested virtualisation) that dominates.');
if (sink === 0.5) console.log(sink);
