/**
 * Peer figures: what Node services use today to run untrusted code, doing
 * what the other suites time on a sandbox, natively (no hypervisor):
 * isolated-vm (a V8 isolate in this process), quickjs-emscripten (QuickJS
 * compiled to WebAssembly), node:vm (a V8 context sharing this heap: no
 * security boundary) and worker_threads (an isolate on its own thread).
 * Every peer runs the same guest, `echo(value)`, which returns its argument.
 *
 * isolated-vm must run with `--no-node-snapshot` on Node 20 and later (its
 * README), so unless this process has the flag the suite runs in a child
 * process started with it, and hands its rows back over IPC.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createContext, Script } from 'node:vm';
import { Worker } from 'node:worker_threads';
import quickJsReleaseSync from '@jitl/quickjs-wasmfile-release-sync';
import { newQuickJSWASMModuleFromVariant, type QuickJSContext, type QuickJSHandle, type QuickJSRuntime, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import { pssBytes, settle } from '../internals.js';
import { summarize, timeMicros, timeMicrosAsync, type Iterations } from '../measure.js';
import { Recorder, type Row } from '../report.js';

type IsolatedVm = typeof import('isolated-vm');
type Reference = InstanceType<IsolatedVm['Reference']>;

/** Options for {@link peersSuite}. */
export interface PeersSuiteOptions {
  /** Few iterations: a smoke test, not a measurement. */
  readonly quick: boolean;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const NO_NODE_SNAPSHOT = '--no-node-snapshot';
/** The argument that tells this module, run as a script, that it is the suite's child process. */
const CHILD_ARG = '--peers-child';

/** The guest every in-process peer evaluates. */
const GUEST_SOURCE = 'globalThis.echo = (value) => value;';

/** The worker's guest: answers each message with the message, handing byte arrays back without a copy. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (value) => parentPort.postMessage(value, ArrayBuffer.isView(value) ? [value.buffer] : []));
parentPort.postMessage('ready');
`;

interface Plan {
  readonly create: Iterations;
  readonly call: Iterations;
  readonly bytes: Iterations;
  readonly reset: Iterations;
  /** Pss batches, contexts per batch, and how long to let memory settle before each baseline. */
  readonly batches: number;
  readonly contexts: number;
  readonly settleMs: number;
}

function plan(quick: boolean): Plan {
  return quick
    ? { create: { warmup: 2, timed: 5 }, call: { warmup: 100, timed: 200 }, bytes: { warmup: 3, timed: 20 }, reset: { warmup: 2, timed: 5 }, batches: 2, contexts: 4, settleMs: 100 }
    : { create: { warmup: 10, timed: 200 }, call: { warmup: 1000, timed: 10_000 }, bytes: { warmup: 20, timed: 500 }, reset: { warmup: 10, timed: 200 }, batches: 5, contexts: 20, settleMs: 500 };
}

/** How one peer does each measured operation, on its kind of context `C`. */
interface Peer<C> {
  /** Prefix of the peer's rows. */
  readonly name: string;
  /** Which package (and version) or Node module, and how it is used. */
  readonly description: string;
  /** Whether `echo` and `echoBytes` return promises. */
  readonly async: boolean;
  /** A context whose guest is ready to be called. */
  create(): C | Promise<C>;
  dispose(context: C): void | Promise<void>;
  echo(context: C, value: number): number | Promise<number>;
  /** Passes `bytes` in and returns the guest's answer, copied (or transferred) out. */
  echoBytes(context: C, bytes: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** A pristine context in place of `context`, which is unusable after it. */
  reset(context: C): C | Promise<C>;
  /** Called before each Pss batch, for a peer whose heap never shrinks to start a fresh one. */
  beginBatch?(): Promise<void>;
  /** Row notes: what creating, passing bytes and resetting mean for this peer, and what its memory covers. */
  readonly notes: { readonly create: string; readonly bytes: string; readonly reset: string; readonly memory: string };
}

const require = createRequire(import.meta.url);

/** The version in the package.json of the installed package `name`. */
function packageVersion(name: string): string {
  for (let dir = dirname(require.resolve(name)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name && manifest.version) return manifest.version;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
  }
}

interface IsolatedVmContext {
  readonly isolate: InstanceType<IsolatedVm['Isolate']>;
  readonly echo: Reference;
}

function isolatedVmPeer(ivm: IsolatedVm): Peer<IsolatedVmContext> {
  const create = (): IsolatedVmContext => {
    const isolate = new ivm.Isolate();
    const context = isolate.createContextSync();
    context.evalSync(GUEST_SOURCE);
    return { isolate, echo: context.global.getSync('echo', { reference: true }) };
  };
  const dispose = ({ isolate }: IsolatedVmContext): void => isolate.dispose();
  return {
    name: 'isolated-vm',
    description: `isolated-vm ${packageVersion('isolated-vm')}: one isolate (default 128 MB memory limit) with one context per sandbox; calls through a Reference to \`echo\` with applySync.`,
    async: false,
    create,
    dispose,
    echo: (c, value) => c.echo.applySync(undefined, [value]) as number,
    echoBytes: (c, bytes) => c.echo.applySync(undefined, [bytes], { arguments: { copy: true }, result: { copy: true } }) as Uint8Array,
    reset: (c) => {
      dispose(c);
      return create();
    },
    notes: {
      create: 'new Isolate + createContextSync + evaluate the guest; Isolate.dispose() untimed',
      bytes: 'applySync with { arguments: { copy: true }, result: { copy: true } }: an ExternalCopy each way',
      reset: 'dispose the isolate, then a new isolate and context (released contexts stay in an isolate\'s heap until a GC that may come only after the memory limit killed it)',
      memory: 'an isolate and its context',
    },
  };
}

interface QuickJsContext {
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly echo: QuickJSHandle;
}

async function quickJsPeer(): Promise<Peer<QuickJsContext>> {
  let module: QuickJSWASMModule = await newQuickJSWASMModuleFromVariant(quickJsReleaseSync);
  const contextIn = (runtime: QuickJSRuntime): QuickJsContext => {
    const context = runtime.newContext();
    context.unwrapResult(context.evalCode(GUEST_SOURCE)).dispose();
    return { runtime, context, echo: context.getProp(context.global, 'echo') };
  };
  const disposeContext = ({ context, echo }: QuickJsContext): void => {
    echo.dispose();
    context.dispose();
  };
  const call = ({ context, echo }: QuickJsContext, argument: QuickJSHandle): QuickJSHandle => {
    const result = context.callFunction(echo, context.undefined, argument);
    argument.dispose();
    return context.unwrapResult(result);
  };
  return {
    name: 'quickjs-emscripten',
    description: `quickjs-emscripten-core ${packageVersion('quickjs-emscripten-core')} with @jitl/quickjs-wasmfile-release-sync ${packageVersion('@jitl/quickjs-wasmfile-release-sync')} (QuickJS, release build, sync): one runtime with one context per sandbox, all in one WebAssembly module instance; calls with callFunction.`,
    async: false,
    create: () => contextIn(module.newRuntime()),
    dispose: (c) => {
      disposeContext(c);
      c.runtime.dispose();
    },
    echo: (c, value) => {
      const result = call(c, c.context.newNumber(value));
      const answer = c.context.getNumber(result);
      result.dispose();
      return answer;
    },
    echoBytes: (c, bytes) => {
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
      const result = call(c, c.context.newArrayBuffer(whole));
      const view = c.context.getArrayBuffer(result);
      // The view is over WebAssembly memory the next call may reuse: copy it out.
      const answer = view.value.slice();
      view.dispose();
      result.dispose();
      return answer;
    },
    reset: (c) => {
      disposeContext(c);
      return contextIn(c.runtime);
    },
    beginBatch: async () => {
      module = await newQuickJSWASMModuleFromVariant(quickJsReleaseSync);
    },
    notes: {
      create: 'newRuntime + newContext + evaluate the guest; disposal untimed',
      bytes: 'newArrayBuffer copies into WebAssembly memory; the answer is copied out of it',
      reset: 'dispose the context, then a new context in the same runtime (the runtime keeps its memory limit and atoms)',
      memory: 'a runtime and its context; each batch in a new WebAssembly module instance, whose memory never shrinks',
    },
  };
}

interface NodeVmContext {
  readonly echo: (value: unknown) => unknown;
}

function nodeVmPeer(): Peer<NodeVmContext> {
  const guest = new Script(GUEST_SOURCE);
  const create = (): NodeVmContext => {
    const context = createContext();
    guest.runInContext(context);
    return { echo: context['echo'] as (value: unknown) => unknown };
  };
  return {
    name: 'node:vm',
    description: `node:vm (Node ${process.versions.node}): one context per sandbox, running a guest compiled once; the guest shares this heap and the objects it is given, so there is no security boundary.`,
    async: false,
    create,
    dispose: () => undefined,
    echo: (c, value) => c.echo(value) as number,
    echoBytes: (c, bytes) => c.echo(bytes) as Uint8Array,
    reset: create,
    notes: {
      create: 'vm.createContext + run the guest script; nothing to dispose (garbage collected)',
      bytes: 'no copy: the guest gets the caller\'s Uint8Array itself',
      reset: 'a new context, as created above; the old one is left to the garbage collector',
      memory: 'a context',
    },
  };
}

/** Posts `value` (cloned) to `worker` and resolves to its answer. */
async function roundTrip(worker: Worker, value: unknown): Promise<unknown> {
  const answer = once(worker, 'message');
  worker.postMessage(value);
  const [message] = (await answer) as [unknown];
  return message;
}

function workerPeer(): Peer<Worker> {
  const create = async (): Promise<Worker> => {
    // No execArgv: a service's worker would not load this process's TypeScript loader.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    const [ready] = (await once(worker, 'message')) as [unknown];
    if (ready !== 'ready') throw new Error(`worker said ${String(ready)} instead of ready`);
    return worker;
  };
  const dispose = async (worker: Worker): Promise<void> => {
    await worker.terminate();
  };
  return {
    name: 'worker_threads',
    description: `worker_threads (Node ${process.versions.node}): one Worker per sandbox, started from source; the guest runs in its own isolate on its own thread and calls are message round trips.`,
    async: true,
    create,
    dispose,
    echo: async (worker, value) => (await roundTrip(worker, value)) as number,
    echoBytes: async (worker, bytes) => (await roundTrip(worker, bytes)) as Uint8Array,
    reset: async (worker) => {
      await dispose(worker);
      return create();
    },
    notes: {
      create: 'new Worker until its "ready" message arrives; terminate() untimed',
      bytes: 'postMessage clones the bytes in; the worker transfers them back (no copy out)',
      reset: 'terminate() the worker, then a new one until it is ready',
      memory: 'a worker thread with its isolate and Node environment',
    },
  };
}

/** Checks a peer's guest answers as expected before it is timed. */
async function check<C>(peer: Peer<C>): Promise<void> {
  const context = await peer.create();
  try {
    const answer = await peer.echo(context, 42);
    if (answer !== 42) throw new Error(`${peer.name}: echo(42) returned ${String(answer)}`);
    const bytes = new Uint8Array(MIB).fill(0x5a);
    const back = await peer.echoBytes(context, bytes);
    if (back.byteLength !== MIB || back[MIB - 1] !== 0x5a) throw new Error(`${peer.name}: 1 MiB echo came back as ${back.byteLength} bytes`);
  } finally {
    await peer.dispose(context);
  }
}

/** Times `step` on one context of `peer`, synchronously unless the peer's calls return promises. */
async function timeCalls<C>(peer: Peer<C>, iterations: Iterations, step: (context: C) => unknown): Promise<number[]> {
  const context = await peer.create();
  try {
    return peer.async ? await timeMicrosAsync(iterations, () => step(context) as Promise<unknown>) : timeMicros(iterations, () => step(context));
  } finally {
    await peer.dispose(context);
  }
}

/**
 * Resident memory (Pss, KiB) each extra ready context of `peer` adds, called
 * once: per batch, the growth over `perBatch` contexts divided by
 * `perBatch`, after two contexts made before the baseline (one-time costs).
 */
async function pssPerContext<C>(peer: Peer<C>, batches: number, perBatch: number, settleMs: number): Promise<number[]> {
  const figures: number[] = [];
  for (let batch = 0; batch < batches; batch++) {
    await peer.beginBatch?.();
    const contexts: C[] = [];
    const add = async (): Promise<void> => {
      const context = await peer.create();
      contexts.push(context);
      await peer.echo(context, 42);
    };
    try {
      for (let i = 0; i < 2; i++) await add();
      settle(settleMs);
      const before = pssBytes();
      for (let i = 0; i < perBatch; i++) await add();
      figures.push((pssBytes() - before) / KIB / perBatch);
    } finally {
      for (const context of contexts) await peer.dispose(context);
    }
  }
  return figures;
}

/** Runs every measurement in this process, which must have `--no-node-snapshot`. */
async function measure(options: PeersSuiteOptions): Promise<{ rows: Row[]; notes: string[] }> {
  const record = new Recorder('peers');
  const iterations = plan(options.quick);
  const ivm = (await import('isolated-vm')).default;
  const peers: Peer<unknown>[] = [isolatedVmPeer(ivm), await quickJsPeer(), nodeVmPeer(), workerPeer()];

  record.note('Measured natively (no hypervisor), in a process with `--no-node-snapshot` (isolated-vm requires it on Node 20 and later).');
  record.note('Every peer runs the same guest, `echo(value)`, which returns its argument; "trivial call" is `echo(42)`, the counterpart of `call(\'EchoI32\', 42)`.');
  for (const peer of peers) {
    record.note(peer.description);
    await check(peer);
  }

  for (const peer of peers) {
    const samples = await timeMicrosAsync(iterations.create, async () => peer.create(), undefined, (c) => peer.dispose(c));
    record.add(`${peer.name}: create a ready context`, 'µs', summarize(samples), { note: peer.notes.create });
  }
  for (const peer of peers) {
    record.add(`${peer.name}: trivial call`, 'µs', summarize(await timeCalls(peer, iterations.call, (c) => peer.echo(c, 42))), {
      payloadBytes: 4,
      series: peer.name,
    });
  }

  const bytes = new Uint8Array(MIB).fill(0xa5);
  const inward = new Uint8Array(MIB);
  const outward = new Uint8Array(MIB);
  const floor = 'memcpy 1 MiB, twice';
  record.add(
    floor,
    'µs',
    summarize(timeMicros(iterations.bytes, () => {
      inward.set(bytes);
      outward.set(inward);
    })),
    { note: 'Uint8Array.set into two buffers allocated beforehand: the least a copy each way costs' },
  );
  for (const peer of peers) {
    record.add(`${peer.name}: 1 MiB in and out`, 'µs', summarize(await timeCalls(peer, iterations.bytes, (c) => peer.echoBytes(c, bytes))), {
      relativeTo: floor,
      note: peer.notes.bytes,
      payloadBytes: MIB,
      series: peer.name,
    });
  }

  for (const peer of peers) {
    let current = await peer.create();
    try {
      const samples = await timeMicrosAsync(iterations.reset, async () => {
        current = await peer.reset(current);
      });
      record.add(`${peer.name}: reset to a clean state`, 'µs', summarize(samples), { note: peer.notes.reset });
    } finally {
      await peer.dispose(current);
    }
  }

  for (const peer of peers) {
    const figures = await pssPerContext(peer, iterations.batches, iterations.contexts, iterations.settleMs);
    record.add(`${peer.name}: Pss per context`, 'KiB', summarize(figures), {
      note: `${peer.notes.memory}: Pss growth over ${iterations.contexts} ready contexts, each called once, divided by ${iterations.contexts}; n = batches`,
    });
  }
  return { rows: record.rows, notes: record.notes };
}

/**
 * Runs the suite: creating a ready context, a trivial call, 1 MiB in and
 * out, a reset to a clean state and the resident memory per context, for
 * isolated-vm, quickjs-emscripten, node:vm and worker_threads. Unless this
 * process runs with `--no-node-snapshot`, the work happens in a child
 * process started with it (its progress lines go to this stderr).
 *
 * @throws Error when a peer answers wrongly or the child process fails.
 * @example
 * const { rows, notes } = await peersSuite({ quick: true });
 */
export async function peersSuite(options: PeersSuiteOptions): Promise<{ rows: Row[]; notes: string[] }> {
  if (process.execArgv.includes(NO_NODE_SNAPSHOT)) return measure(options);
  const child = fork(fileURLToPath(import.meta.url), [CHILD_ARG, ...(options.quick ? ['--quick'] : [])], {
    execArgv: [...process.execArgv, NO_NODE_SNAPSHOT],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let result: { rows: Row[]; notes: string[] } | undefined;
  child.on('message', (message) => {
    result = message as { rows: Row[]; notes: string[] };
  });
  // 'close' comes after the IPC channel has closed too, so the results have arrived by then.
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0 || !result) throw new Error(`the peers suite's child process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}${result ? '' : ' without results'}`);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === CHILD_ARG && process.send) {
  const result = await measure({ quick: process.argv.includes('--quick') });
  process.send(result, () => process.disconnect());
}
