// Child process for termination.kvm.test.ts: starts guests that spin, one in
// a sync call() inside a worker and one in a callAsync() on the main thread,
// then calls process.exit(0) and prints `exiting` just before.
//   node exit-child.mjs <rust|c>
import { Worker } from 'node:worker_threads';
import { GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';

const language = process.argv[2];
// A safety net: a broken exit still ends, with a visible error, instead of spinning for ever.
const SAFETY_TIMEOUT_MS = 120_000;

const sandbox = UninitializedSandbox.create(GuestBinary.fromFile(guestPath(language, 'simpleguest')), { timeoutMs: SAFETY_TIMEOUT_MS }).evolve();
sandbox.callAsync('Spin', 'void').catch((error) => console.error(`the async Spin ended: ${error?.message}`));

const worker = new Worker(new URL('./cancel-worker.mjs', import.meta.url));
worker.on('error', (error) => console.error(`worker error: ${error?.message}`));
worker.on('message', (message) => {
  if (message.reply === 'ready') worker.postMessage({ cmd: 'spin', language, mode: 'sync', timeoutMs: SAFETY_TIMEOUT_MS });
  else if (message.reply === 'spinning') {
    // Both guests are in the VM by now.
    setTimeout(() => {
      console.log('exiting');
      process.exit(0);
    }, 300);
  } else console.error(`unexpected message from the worker: ${JSON.stringify(message)}`);
});
