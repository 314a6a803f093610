// A worker whose guest spins for ever: in a sync run() (this thread blocked
// inside KVM_RUN) or a runAsync(). Posts 'spinning' just before.
//   workerData: { mode: 'sync' | 'async' }
import { parentPort, workerData } from 'node:worker_threads';
import { backend } from '../../dist/index.js';
import { loadGuest, SPIN } from './guests.mjs';

const vm = backend.createVm({ memorySize: 0x10000 });
const entry = loadGuest(vm, SPIN);
vm.callGuard.begin();
parentPort.postMessage({ spinning: true, token: vm.callGuard.token });
if (workerData.mode === 'sync') {
  const exit = vm.run(entry);
  parentPort.postMessage({ exit });
} else {
  vm.runAsync(entry).then((exit) => parentPort.postMessage({ exit }));
}
