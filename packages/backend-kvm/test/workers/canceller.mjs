// A worker that cancels the main thread's guest calls through
// backend.cancelCall(token): the token arrives by postMessage.
//   { cmd: 'cancel', token, reason, flags, delayMs }  wait until flags[0] != 0, sleep delayMs, cancel
//   { cmd: 'stress', token, control, iterations }      see cancellation.kvm.test.ts
import { parentPort } from 'node:worker_threads';
import { backend, loadNative } from '../../dist/index.js';
import { nowMs } from './guests.mjs';

loadNative(); // now, so the first cancel's time does not include loading the addon

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms) => Atomics.wait(sleeper, 0, 0, ms);

function busyWaitUs(us) {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

parentPort.on('message', (message) => {
  if (message.cmd === 'cancel') {
    const flags = new Int32Array(message.flags);
    while (Atomics.load(flags, 0) === 0) Atomics.wait(flags, 0, 0, 1000);
    if (message.delayMs > 0) sleep(message.delayMs);
    const cancelledAt = nowMs();
    const result = backend.cancelCall(message.token, message.reason);
    parentPort.postMessage({ result, cancelledAt });
  } else if (message.cmd === 'stress') {
    // control[0]: the main thread's current iteration + 1; control[1]: this worker's.
    const control = new Int32Array(message.control);
    const refused = [];
    for (let i = 0; i < message.iterations; i++) {
      while (Atomics.load(control, 0) < i + 1) Atomics.wait(control, 0, i, 1000);
      if (i % 2 === 0) {
        // Anywhere from at once (before the first KVM_RUN) to a few runs in.
        if (Math.random() >= 0.3) busyWaitUs(Math.random() * 2000);
        if (!backend.cancelCall(message.token, 'killed')) refused.push(i);
      }
      Atomics.store(control, 1, i + 1);
      Atomics.notify(control, 1);
    }
    parentPort.postMessage({ refused });
  }
});
