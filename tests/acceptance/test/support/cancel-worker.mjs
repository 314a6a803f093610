// Worker thread for the cancellation tests: kills sandboxes of the main
// thread through copies of their interrupt handles while the main thread is
// blocked in a sync call, and runs guests of its own that the main thread
// terminates. It replies to each command with { reply, ...data } or
// { reply: 'failed', error }, and says { reply: 'ready' } once loaded.
import { parentPort, workerData } from 'node:worker_threads';
import { discoverBackend, GuestBinary, InterruptHandle, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const nowMs = () => performance.timeOrigin + performance.now();

/** Blocks this thread for `ms` milliseconds (fractions allowed) without spinning. */
function blockThread(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Waits until the main thread sets `flag[0]`, waits `delayMs` more, and
 * kills. With a second slot, stores the result there (1 = true, 2 = false)
 * and wakes waiters, so a main thread blocked in a host function can wait for it.
 */
function killAfter({ handle, flag, delayMs }) {
  const interrupt = InterruptHandle.from(handle);
  Atomics.wait(flag, 0, 0);
  if (delayMs > 0) blockThread(delayMs);
  const at = nowMs();
  const killed = interrupt.kill();
  if (flag.length > 1) {
    Atomics.store(flag, 1, killed ? 1 : 2);
    Atomics.notify(flag, 1);
  }
  return { killed, at };
}

/**
 * Kills again and again, waiting `delaysMs[i % length]` before kill `i`,
 * until the main thread sets `control[0]`. Publishes the running counts in
 * `control[1]` (kills that returned true) and `control[2]` (false).
 *
 * `seq` says where the main thread is: it sets it to `2i + 1` just before
 * its call `i` and to `2i + 2` just after. A kill that returned true with
 * `seq` unchanged around it is attributed to that call (odd) or found
 * between calls (even); one where `seq` moved is ambiguous.
 */
function killRepeatedly({ handle, control, seq, delaysMs }) {
  const interrupt = InterruptHandle.from(handle);
  let trueKills = 0;
  let falseKills = 0;
  const killedCalls = [];
  const betweenCalls = [];
  let ambiguous = 0;
  for (let i = 0; Atomics.load(control, 0) === 0; i++) {
    const delay = delaysMs[i % delaysMs.length];
    if (delay > 0) blockThread(delay);
    const before = Atomics.load(seq, 0);
    const killed = interrupt.kill();
    const after = Atomics.load(seq, 0);
    if (!killed) {
      Atomics.store(control, 2, ++falseKills);
      continue;
    }
    Atomics.store(control, 1, ++trueKills);
    if (before !== after) ambiguous++;
    else if (before % 2 === 1) killedCalls.push((before - 1) / 2);
    else betweenCalls.push(before / 2);
  }
  return { trueKills, falseKills, killedCalls, betweenCalls, ambiguous };
}

/**
 * Makes a simpleguest sandbox and calls Spin in it: with `mode: 'sync'` this
 * thread then blocks in the guest (after replying `spinning`) until it is
 * terminated; with `mode: 'async'` the call runs on the backend's thread.
 * `timeoutMs` is a safety net so a broken terminate cannot spin for ever.
 */
const sandboxes = [];
function spin({ language, mode, timeoutMs }) {
  const sandbox = UninitializedSandbox.create(GuestBinary.fromFile(guestPath(language, 'simpleguest')), { timeoutMs }).evolve();
  sandboxes.push(sandbox);
  if (mode === 'async') {
    sandbox.callAsync('Spin', 'void').catch((error) => port.postMessage({ reply: 'spin-ended', error: describeError(error) }));
    return {};
  }
  port.postMessage({ reply: 'spinning', at: nowMs() });
  try {
    sandbox.call('Spin', 'void');
    return { ended: 'returned' };
  } catch (error) {
    return { ended: 'threw', error: describeError(error) };
  }
}

/** A plain copy of an error, for postMessage. */
function describeError(error) {
  const e = /** @type {any} */ (error);
  return { name: e?.name, code: e?.code, message: e?.message, reason: e?.reason, limit: e?.limit };
}

const commands = {
  'kill-after': killAfter,
  'kill-repeatedly': killRepeatedly,
  spin,
  exit: () => {
    for (const sandbox of sandboxes) sandbox.dispose();
    port.off('message', onMessage);
    return {};
  },
};

function onMessage(message) {
  let reply;
  try {
    reply = { reply: message.cmd, ...commands[message.cmd](message) };
  } catch (error) {
    reply = { reply: 'failed', cmd: message.cmd, error: describeError(error), stack: error?.stack };
  }
  port.postMessage(reply);
}

port.on('message', onMessage);
// Load the backend now: a handle's first kill() in this thread would load it
// otherwise, and the kill -> throw latency measured would include that.
discoverBackend();
port.postMessage({ reply: 'ready', workerData });
