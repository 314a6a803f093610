// The hello-world flow: create a sandbox from a guest binary, give the guest a
// host function, evolve it (boot the micro VM, run guest init), call a guest
// function that calls back into the host.
import { GuestBinary, HyperlightError, UninitializedSandbox } from '@hyperlight-ts/core';

const guestPath = process.argv[2] ?? 'dist/hello-world-guest.elf';
const weekday = new Date().toLocaleDateString('en-US', { weekday: 'long' });

try {
  const uninitialized = UninitializedSandbox.create(GuestBinary.fromFile(guestPath));
  uninitialized.register('GetWeekday', { params: [], returns: 'string' }, () => weekday);

  const started = performance.now();
  using sandbox = uninitialized.evolve();
  const evolvedMs = performance.now() - started;

  const greeting = sandbox.call('SayHello', 'string', 'World');
  console.log(greeting);
  console.log(`(micro VM up in ${evolvedMs.toFixed(2)} ms; guest functions: ${[...sandbox.guestFunctions.keys()].join(', ')})`);
} catch (error) {
  if (!(error instanceof HyperlightError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
}
