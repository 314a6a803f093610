// {{name}}: runs the guest (dist/guest.elf, built by `{{runBuild}}`) in a
// hardware-isolated micro VM and calls its functions.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkHypervisor, GuestBinary, HyperlightError, UninitializedSandbox } from '@hyperlight-ts/core';

const guestPath = fileURLToPath(new URL('./dist/guest.elf', import.meta.url));

// Without a usable hypervisor nothing can run; say why for each backend tried.
const { backend, candidates } = checkHypervisor();
if (!backend) {
  console.error('No hypervisor is usable here, so the guest cannot run:');
  for (const c of candidates) console.error(`  ${c.backend}: ${c.reason} (${c.detail})`);
  console.error('hyperlight-ts needs Linux on x86-64 with KVM: /dev/kvm must exist and be readable and writable by this user.');
  process.exit(1);
}
if (!existsSync(guestPath)) {
  console.error(`${guestPath} does not exist: build the guest first ({{runBuild}}).`);
  process.exit(1);
}

try {
  const uninitialized = UninitializedSandbox.create(GuestBinary.fromFile(guestPath));
  // A host function the guest can call (AskHost calls it).
  uninitialized.register('Answer', { params: ['string'], returns: 'string' }, (question) => `"${question}": Node.js ${process.version} on ${backend}`);
  const sandbox = uninitialized.evolve(); // boots the micro VM and runs the guest's initialisation
  try {
    console.log(sandbox.call('Greet', 'string', 'Node.js'));
    console.log(sandbox.call('AskHost', 'string', 'who is there?'));

    // A snapshot holds the guest's whole memory; restoring it undoes every call since.
    const clean = sandbox.snapshot();
    sandbox.call('Count', 'i32');
    const before = sandbox.call('Count', 'i32');
    sandbox.restore(clean);
    console.log(`Count: ${before} before restoring the snapshot, ${sandbox.call('Count', 'i32')} after`);
    clean.dispose();
  } finally {
    sandbox.dispose();
  }
} catch (error) {
  if (!(error instanceof HyperlightError)) throw error;
  console.error(`${error.code}: ${error.message}`);
  process.exitCode = 1;
}
