// A child process with nothing but a VM to keep its event loop alive: a
// registered onCancel listener and a pending runAsync must keep it running
// (each until the watchdog's timeout), and once they are done the process
// must exit by itself. Prints what it hears.
import { backend } from '../../dist/index.js';
import { loadGuest, SPIN } from './guests.mjs';

const vm = backend.createVm({ memorySize: 0x10000 });
const entry = loadGuest(vm, SPIN);

vm.callGuard.begin(200);
const stop = vm.callGuard.onCancel((reason) => {
  stop();
  console.log(`listener: ${reason}`);
  vm.callGuard.end();
  vm.callGuard.begin(200);
  vm.runAsync(entry).then((exit) => {
    console.log(`runAsync: ${exit.kind} (${vm.callGuard.end()})`);
    // Nothing pending now: the VM must not hold the process open, undisposed as it is.
  });
});

// Does not keep the process alive itself; ends it, loudly, if something else does for too long.
setTimeout(() => {
  console.error('the process is still alive after 60 s');
  process.exit(1);
}, 60_000).unref();
