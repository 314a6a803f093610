/**
 * Figures from outside the public API. `privatePageCount` reaches into a
 * sandbox's internals on purpose (the public API does not expose the VM); it
 * depends on the private fields `guest` and `guest.vm`.
 */
import { readFileSync } from 'node:fs';
import type { MultiUseSandbox, VirtualMachine } from '@hyperlight-ts/core';

/** Pages of guest memory the sandbox's VM holds privately (what a restore discards). */
export function privatePageCount(sandbox: MultiUseSandbox): number {
  return (sandbox as unknown as { guest: { vm: VirtualMachine } }).guest.vm.privatePageCount();
}

/** This process's proportional set size in bytes (shared pages divided among their mappings). */
export function pssBytes(): number {
  const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!match) throw new Error('no Pss line in /proc/self/smaps_rollup');
  return Number(match[1]) * 1024;
}
