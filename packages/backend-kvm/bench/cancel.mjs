// Costs of cancellation and async runs, in one run (needs /dev/kvm, or
// tools/kvm-vm/run.sh, and a build):
//   - time from a cancel (another thread's backend.cancelCall, or a timeout)
//     to run() returning;
//   - callGuard.begin/end around each run of a sync run loop;
//   - sync run() vs runAsync() round trip to the same trivial exit, and the
//     cost of alternating them on one vCPU (KVM_RUN from another thread than
//     last time makes KVM wait for an RCU grace period).
//   node bench/cancel.mjs [iterations]
import { Worker } from 'node:worker_threads';
import { backend } from '../dist/index.js';
import { loadGuest, nowMs, OUT_LOOP, SPIN } from '../test/workers/guests.mjs';

const iterations = Number(process.argv[2] ?? 2000);
const status = backend.check();
if (!status.usable) throw new Error(`KVM not usable: ${status.reason}: ${status.detail}`);

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p90: at(0.9), min: sorted[0], max: sorted[sorted.length - 1] };
}
const fmt = (value, unit) => `${value.toFixed(unit === 'us' ? 2 : 3).padStart(9)} ${unit}`;
function line(label, samples, unit) {
  const s = stats(samples);
  console.log(`${fmt(s.median, unit)} median ${fmt(s.p90, unit)} p90 ${fmt(s.max, unit)} max  ${label}`);
  return s.median;
}

/** Per-iteration times of `fn` in µs, after a warm-up. */
function timeEach(fn, count = iterations) {
  for (let i = 0; i < Math.min(200, count); i++) fn();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples;
}

async function timeEachAsync(fn, count = iterations) {
  for (let i = 0; i < Math.min(200, count); i++) await fn();
  const samples = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return samples;
}

const expectOut = (exit) => {
  if (exit.kind !== 'io-out') throw new Error(`unexpected exit ${JSON.stringify(exit)}`);
};

// --- 1. cancel latency ------------------------------------------------------
console.log('cancel to run() returning (guest spinning inside KVM_RUN):');
{
  const vm = backend.createVm({ memorySize: 0x10000 });
  const entry = loadGuest(vm, SPIN);
  vm.callGuard.begin(10);
  vm.run(entry); // warm-up: the vCPU's first KVM_RUN is slow under emulation
  vm.callGuard.end();
  const worker = new Worker(new URL('../test/workers/canceller.mjs', import.meta.url));
  const fromWorker = [];
  const rounds = Math.min(200, iterations);
  for (let i = 0; i < rounds; i++) {
    const flags = new Int32Array(new SharedArrayBuffer(4));
    const reply = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage({ cmd: 'cancel', token: vm.callGuard.token, reason: 'killed', flags: flags.buffer, delayMs: 2 });
    vm.callGuard.begin(60_000);
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    const exit = vm.run(entry);
    const returnedAt = nowMs();
    if (vm.callGuard.end() !== 'killed' || exit.kind !== 'cancelled') throw new Error('the cancel did not stop the run');
    const { cancelledAt } = await reply;
    fromWorker.push((returnedAt - cancelledAt) * 1000);
  }
  line(`backend.cancelCall() from a worker, ${rounds} runs`, fromWorker, 'us');
  const overshoot = [];
  for (let i = 0; i < Math.min(100, iterations); i++) {
    const start = performance.now();
    vm.callGuard.begin(5);
    vm.run(entry);
    vm.callGuard.end();
    overshoot.push((performance.now() - start - 5) * 1000);
  }
  line('timeoutMs 5: run() returns this long after the deadline', overshoot, 'us');
  await worker.terminate();
  vm.dispose();
}

// --- 2. call guard on the sync path ----------------------------------------
console.log('sync run loop (resume to the next `out` exit), per iteration:');
const vm = backend.createVm({ memorySize: 0x10000 });
expectOut(vm.run(loadGuest(vm, OUT_LOOP)));
const guard = vm.callGuard;
// Interleaved rounds, so drift in the emulated machine hits every variant alike.
const variants = {
  'run()': () => expectOut(vm.run()),
  'begin(); run(); end()': () => {
    guard.begin();
    expectOut(vm.run());
    guard.end();
  },
  'begin(60000); run(); end()  (arms the watchdog)': () => {
    guard.begin(60_000);
    expectOut(vm.run());
    guard.end();
  },
  'begin(); end()  (no run)': () => {
    guard.begin();
    guard.end();
  },
};
const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
const rounds = 10;
for (let round = 0; round < rounds; round++) {
  for (const [name, fn] of Object.entries(variants)) samples[name].push(...timeEach(fn, Math.ceil(iterations / rounds)));
}
const base = line('run()', samples['run()'], 'us');
for (const name of Object.keys(variants).slice(1)) {
  const median = line(name, samples[name], 'us');
  if (name.includes('run()')) console.log(`            ratio to run(): ${(median / base).toFixed(3)}`);
}

// --- 3. sync vs async round trip -------------------------------------------
console.log('round trip to the same `out` exit:');
const sync = line('run()', timeEach(() => expectOut(vm.run())), 'us');
const async = line('await runAsync()', await timeEachAsync(async () => expectOut(await vm.runAsync())), 'us');
console.log(`            ratio async / sync: ${(async / sync).toFixed(2)}`);
const alternate = [];
for (let i = 0; i < Math.min(iterations, 500); i++) {
  const start = process.hrtime.bigint();
  expectOut(vm.run());
  expectOut(await vm.runAsync());
  alternate.push(Number(process.hrtime.bigint() - start) / 2000);
}
const alternating = line('run() and runAsync() alternating (per run; KVM_RUN changes thread each time)', alternate, 'us');
console.log(`            ratio alternating / async alone: ${(alternating / async).toFixed(2)}`);
vm.dispose();
