// Threads and processes that end while their guests run: worker.terminate()
// during a guest call, and process.exit() with guests spinning.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { CancelWorker, terminateCancelWorkers } from './support/cancel-worker.js';
import { forEachGuest, type GuestLanguage } from './support/guests.js';
import { handlesUncountable } from './support/process.js';
import { hypervisorOnly, resources, withSandboxes } from './support/resources.js';
import { reportMeasure, settle, sleep } from './support/timing.js';

const TIMEOUT = 120_000;
const SETTLE_MS = 30_000;
/** The worker's guests time out after this long if nothing else stops them. */
const SAFETY_TIMEOUT_MS = 60_000;
/**
 * How long worker.terminate() and process exit may take. The guests spin forever, so
 * ending at all proves the spin was cut short; the bound tells that from a hang and
 * leaves room for the emulated VM's stalls (measured times are reported).
 */
const PROMPT_MS = 10_000;
const EXIT_CHILD = fileURLToPath(new URL('./support/exit-child.mjs', import.meta.url));

afterEach(terminateCancelWorkers);

/** Starts a worker whose guest spins (`mode`), and waits until it does. */
async function spinningWorker(language: GuestLanguage, mode: 'sync' | 'async'): Promise<CancelWorker> {
  const w = await CancelWorker.start();
  w.spin(language, mode, SAFETY_TIMEOUT_MS);
  await w.expect(mode === 'sync' ? 'spinning' : 'spin');
  await sleep(300); // the guest is inside the hypervisor's run call by now
  return w;
}

/** Terminates `w`, returning how long it took. */
async function terminate(w: CancelWorker): Promise<number> {
  const start = performance.now();
  const outcome = await settle(w.worker.terminate(), SETTLE_MS, 'worker.terminate()');
  const elapsedMs = performance.now() - start;
  expect(outcome).toEqual({ ok: true, value: 1 });
  expect(w.errors).toEqual([]);
  return elapsedMs;
}

forEachGuest('ending threads and processes with guests running', (language: GuestLanguage) => {
  beforeAll(async () => {
    // Warm-up: the first worker with a guest may open process-wide handles for good.
    await terminate(await spinningWorker(language, 'sync'));
  }, TIMEOUT);

  for (const mode of ['sync', 'async'] as const) {
    it(`worker.terminate() during a ${mode} Spin in the worker completes within ${PROMPT_MS} ms and releases every fd and mapping`, async ({ skip }) => {
      skip(handlesUncountable !== undefined, handlesUncountable);
      const before = resources();
      const w = await spinningWorker(language, mode);
      expect(hypervisorOnly(resources())).toEqual(withSandboxes(before, 1, 1));
      const elapsedMs = await terminate(w);
      reportMeasure(`worker.terminate() during a ${mode} Spin [${language}]`, `${elapsedMs.toFixed(0)} ms`);
      expect(resources()).toEqual(before);
      expect(elapsedMs).toBeLessThanOrEqual(PROMPT_MS);
    }, TIMEOUT);
  }

  it('several workers, each in a sync Spin, terminate together and release everything', async ({ skip }) => {
    skip(handlesUncountable !== undefined, handlesUncountable);
    const before = resources();
    const workers = await Promise.all(Array.from({ length: 3 }, () => spinningWorker(language, 'sync')));
    expect(hypervisorOnly(resources())).toEqual(withSandboxes(before, 3, 3));
    const start = performance.now();
    const elapsed = await Promise.all(workers.map((w) => terminate(w)));
    reportMeasure(`3 workers terminated together [${language}]`, `${(performance.now() - start).toFixed(0)} ms (each ${elapsed.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    expect(resources()).toEqual(before);
  }, TIMEOUT);

  it(`process.exit(0) with guests spinning (sync in a worker, async on the main thread) exits within ${PROMPT_MS} ms`, async () => {
    const child = spawn(process.execPath, [EXIT_CHILD, language], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let exitingAt: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (exitingAt === undefined && stdout.includes('exiting')) exitingAt = performance.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    const outcome = await settle(exited, 120_000, 'the child process');
    if (!outcome.ok) child.kill('SIGKILL');
    expect(outcome.ok, `stdout: ${stdout}\nstderr: ${stderr}`).toBe(true);
    const { code, signal, at } = (outcome as { ok: true; value: { code: number | null; signal: NodeJS.Signals | null; at: number } }).value;
    expect({ code, signal, stdout, stderr }).toEqual({ code: 0, signal: null, stdout: 'exiting\n', stderr: '' });
    const exitMs = at - exitingAt!;
    reportMeasure(`process.exit(0) with two guests spinning [${language}]`, `${exitMs.toFixed(0)} ms from "exiting" to the exit event`);
    expect(exitMs).toBeLessThanOrEqual(PROMPT_MS);
  }, TIMEOUT);
});
