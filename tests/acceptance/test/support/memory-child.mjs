// Child process for hardening.kvm.test.ts: how much resident memory a
// sandbox of a given guest costs. It first evolves and disposes a sandbox of
// the unpatched simpleguest (so the backend, the JIT and the allocator are
// warm), then reads VmRSS, evolves the guest under test, calls it, reads
// VmRSS again and prints one JSON line:
//   {"beforeBytes":…,"afterBytes":…,"add":3,"increment":1}
//   node memory-child.mjs <rust|c> <guest.elf> <maxMemorySize>
import { readFileSync } from 'node:fs';
import { GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';

const [language, elfPath, maxMemorySize] = process.argv.slice(2);

/**
 * This process's resident memory in bytes (VmRSS: anonymous, file-backed and
 * shared memory, so guest memory in a memfd counts too).
 */
function rssBytes() {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) throw new Error('no VmRSS line in /proc/self/status');
  return Number(match[1]) * 1024;
}

/** Evolves `binary` with the host functions the simpleguest's Add and Increment need (none). */
function evolve(binary, config) {
  return UninitializedSandbox.create(binary, config).evolve();
}

const warmUp = evolve(GuestBinary.fromFile(guestPath(language, 'simpleguest')));
warmUp.call('Add', 'i32', 1, 2);
warmUp.dispose();
const binary = GuestBinary.fromFile(elfPath);
const beforeBytes = rssBytes();
const sandbox = evolve(binary, { maxMemorySize: Number(maxMemorySize) });
const add = sandbox.call('Add', 'i32', 1, 2);
const increment = sandbox.call('Increment', 'i32');
const afterBytes = rssBytes();
sandbox.dispose();
console.log(JSON.stringify({ beforeBytes, afterBytes, add, increment }));
