/**
 * Figures from outside the public API. `privatePageCount`, `memorySizeBytes`, `timeGuestRuns` and `callGuard`
 * reach into a sandbox's internals on purpose (the public API does not expose
 * the VM); they depend on the private fields `guest` and `guest.vm`.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { CallGuard, MultiUseSandbox, VirtualMachine } from '@hyperlight-ts/core';

function vmOf(sandbox: MultiUseSandbox): VirtualMachine {
  return (sandbox as unknown as { guest: { vm: VirtualMachine } }).guest.vm;
}

/** Pages of guest memory the sandbox's VM holds privately (what a restore discards). */
export function privatePageCount(sandbox: MultiUseSandbox): number {
  return vmOf(sandbox).privatePageCount();
}

/** Bytes of guest memory the sandbox's VM has (its whole guest-physical range). */
export function memorySizeBytes(sandbox: MultiUseSandbox): number {
  return vmOf(sandbox).memory.byteLength;
}

/**
 * Wraps the sandbox VM's `run` so the time spent inside it (entering the
 * guest, the guest's own work, the exit) adds up in `elapsedUs`; `stop()`
 * unwraps it.
 */
export function timeGuestRuns(sandbox: MultiUseSandbox): { readonly elapsedUs: () => number; readonly reset: () => void; readonly stop: () => void } {
  const vm = vmOf(sandbox) as VirtualMachine & { run: VirtualMachine['run'] };
  const original = vm.run;
  let elapsedNs = 0n;
  vm.run = function timedRun(this: VirtualMachine, ...args: Parameters<VirtualMachine['run']>) {
    const start = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      elapsedNs += process.hrtime.bigint() - start;
    }
  };
  return {
    elapsedUs: () => Number(elapsedNs) / 1000,
    reset: () => {
      elapsedNs = 0n;
    },
    stop: () => {
      delete (vm as { run?: unknown }).run;
      if (vm.run !== original) vm.run = original;
    },
  };
}

/** The call guard every guest run of the sandbox opens and closes. */
export function callGuard(sandbox: MultiUseSandbox): CallGuard {
  return vmOf(sandbox).callGuard;
}

setFlagsFromString('--expose-gc');
/** V8's garbage collector, exposed without a command-line flag (a new context picks up `--expose-gc`). */
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * This process's proportional set size in bytes (shared pages divided among
 * their mappings), read after a full garbage collection so that JavaScript
 * heap growth and shrinkage do not swamp small differences.
 */
export function pssBytes(): number {
  collectGarbage();
  const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!match) throw new Error('no Pss line in /proc/self/smaps_rollup');
  return Number(match[1]) * 1024;
}

/**
 * Waits `ms` milliseconds, synchronously, after a garbage collection, so
 * memory that background threads release (V8's sweeper, deferred unmaps) is
 * gone before a baseline is read.
 */
export function settle(ms = 500): void {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  // V8 frees ArrayBuffer backing stores (such as guest memory mappings) on a background thread.
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    Atomics.wait(cell, 0, 0, ms);
  }
  collectGarbage();
}
