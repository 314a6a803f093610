// Worker thread for workers.kvm.test.ts. Owns simpleguest sandboxes and runs
// the commands the main thread sends, one at a time, replying to each with
// { reply, ...data } or { reply: 'failed', error }. Values sent and results
// returned are derived from (worker, sandbox id, round) so the main thread can
// compute every expected result independently.
import { parentPort, workerData } from 'node:worker_threads';
import { GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';

/** @type {{ language: 'rust' | 'c', worker: number, ids: number[], trapId?: number }} */
const { language, worker, ids, trapId } = workerData;
const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);

/** @type {Map<number, import('@hyperlight-ts/core').MultiUseSandbox>} */
const sandboxes = new Map();
/** Host function calls each sandbox made, by name. */
const hostCalls = new Map(ids.map((id) => [id, { HostEchoString: 0, HostAdd: 0 }]));
/** How many times each sandbox's Increment has been called. */
const increments = new Map(ids.map((id) => [id, 0]));
/** Set by the `trap` command: the trap sandbox's next HostEchoString never returns. */
let trapArmed = false;

/** Increments per round: differs between neighbours so a shared counter would show. */
const incrementsPerRound = (id) => 1 + (id % 3);

function create() {
  const binary = GuestBinary.fromFile(guestPath(language, 'simpleguest'));
  for (const id of ids) {
    const calls = hostCalls.get(id);
    const u = UninitializedSandbox.create(binary)
      .register('HostEchoString', { params: ['string'], returns: 'string' }, (s) => {
        calls.HostEchoString++;
        if (id === trapId && trapArmed) {
          // Park inside the callback, the guest mid-call, until the worker is terminated.
          port.postMessage({ reply: 'in-callback', id });
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        }
        return `${s}<-host ${worker}/${id}`;
      })
      .register('HostAdd', { params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
        calls.HostAdd++;
        return a + b;
      });
    sandboxes.set(id, u.evolve());
  }
  return { count: sandboxes.size };
}

/** One call sequence per sandbox, interleaving the sandboxes; poisoned ones are skipped. */
function round(r) {
  const results = [];
  for (const [id, sandbox] of sandboxes) {
    if (sandbox.poisoned) {
      results.push({ id, poisoned: true });
      continue;
    }
    const counter = [];
    for (let k = 0; k < incrementsPerRound(id); k++) {
      counter.push(sandbox.call('Increment', 'i32'));
      increments.set(id, increments.get(id) + 1);
    }
    results.push({
      id,
      counter,
      echo: sandbox.call('EchoString', 'string', `worker ${worker} sandbox ${id} round ${r}`),
      add: sandbox.call('Add', 'i32', id * 1000, r),
      i64: sandbox.call('EchoI64', 'i64', (BigInt(id) << 40n) | BigInt(r)),
      hostEcho: sandbox.call('CallHostEchoString', 'string', `cb ${id}.${r}`),
      hostAdd: sandbox.call('CallHostAdd', 'i32', id, r * 7),
    });
  }
  return { results };
}

/** A plain copy of an error, for postMessage (which loses subclasses and own fields). */
function describeError(error) {
  const e = /** @type {any} */ (error);
  return {
    name: e?.name,
    code: e?.code,
    message: e?.message,
    guestMessage: e?.guestMessage,
    causeName: e?.cause?.name,
    causeCode: e?.cause?.code,
  };
}

function panic(id, message) {
  const sandbox = sandboxes.get(id);
  const attempt = (fn) => {
    try {
      return { value: fn() };
    } catch (error) {
      return { error: describeError(error) };
    }
  };
  const first = attempt(() => sandbox.call('Panic', 'void', message));
  const second = attempt(() => sandbox.call('Increment', 'i32'));
  return { first, second, poisoned: sandbox.poisoned };
}

/** Calls the trap sandbox's CallHostEchoString; the host callback never returns. */
function enterTrap() {
  trapArmed = true;
  sandboxes.get(trapId).call('CallHostEchoString', 'string', 'trap');
  return {};
}

function dispose() {
  for (const sandbox of sandboxes.values()) sandbox.dispose();
  sandboxes.clear();
  return { hostCalls: Object.fromEntries(hostCalls), increments: Object.fromEntries(increments) };
}

const commands = {
  create: () => create(),
  round: (m) => round(m.round),
  panic: (m) => panic(m.id, m.message),
  trap: () => enterTrap(),
  dispose: () => dispose(),
};

function onMessage(message) {
  let reply;
  try {
    reply = { reply: message.cmd, ...commands[message.cmd](message) };
  } catch (error) {
    reply = { reply: 'failed', cmd: message.cmd, error: describeError(error), stack: error?.stack };
  }
  port.postMessage(reply);
  // With no listener the port no longer keeps the thread alive: it exits with code 0.
  if (message.cmd === 'dispose') port.off('message', onMessage);
}

port.on('message', onMessage);
