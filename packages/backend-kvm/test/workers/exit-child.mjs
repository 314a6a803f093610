// A child process that calls process.exit(0) while two guests spin: one in a
// runAsync() on this (main) thread, one in a sync run() on a worker. Prints
// `exiting` just before.
import { Worker } from 'node:worker_threads';
import { backend } from '../../dist/index.js';
import { loadGuest, SPIN } from './guests.mjs';

const vm = backend.createVm({ memorySize: 0x10000 });
vm.runAsync(loadGuest(vm, SPIN)).then((exit) => console.log(`the async run ended: ${JSON.stringify(exit)}`));

const worker = new Worker(new URL('./spinner.mjs', import.meta.url), { workerData: { mode: 'sync' } });
worker.on('error', (error) => console.error(`worker error: ${error?.message}`));
worker.once('message', () => {
  setTimeout(() => {
    console.log('exiting');
    process.exit(0);
  }, 300); // both guests are inside KVM_RUN by now
});
