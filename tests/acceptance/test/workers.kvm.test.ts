// Sandboxes in worker threads. call() blocks its thread, so parallel guests
// need workers; every worker loads its own instance of the KVM addon.
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { forEachGuest, type GuestLanguage } from './support/guests.js';
import { handlesUncountable } from './support/process.js';
import { hypervisorOnly, resources, resourcesWhereCountable, withSandboxes } from './support/resources.js';

const WORKER_SCRIPT = new URL('./support/sandbox-worker.mjs', import.meta.url);
// Generous: everything is slow under nested emulation. Nothing here measures time.
const TIMEOUT = 600_000;

interface RoundResult {
  id: number;
  counter?: number[];
  echo?: string;
  add?: number;
  i64?: bigint;
  hostEcho?: string;
  hostAdd?: number;
  poisoned?: true;
}

interface ErrorCopy {
  name?: string;
  code?: string;
  message?: string;
  guestMessage?: string;
  causeName?: string;
  causeCode?: string;
}

type Reply = { reply: string } & Record<string, unknown>;

/** Increment calls a sandbox makes per round (as the worker script does). */
const incrementsPerRound = (id: number): number => 1 + (id % 3);

/** What sandbox `id` of `worker` returns in round `r` after `before` earlier Increments. */
function expectedRound(worker: number, id: number, r: number, before: number): RoundResult {
  return {
    id,
    counter: Array.from({ length: incrementsPerRound(id) }, (_, k) => before + k + 1),
    echo: `worker ${worker} sandbox ${id} round ${r}`,
    add: id * 1000 + r,
    i64: (BigInt(id) << 40n) | BigInt(r),
    hostEcho: `cb ${id}.${r}<-host ${worker}/${id}`,
    hostAdd: id + r * 7,
  };
}

const live = new Set<SandboxWorker>();

/** A worker running support/sandbox-worker.mjs, driven one command at a time. */
class SandboxWorker {
  readonly worker: Worker;
  readonly errors: Error[] = [];
  readonly exited: Promise<number>;
  exitCode: number | undefined;
  readonly #queued: Reply[] = [];
  readonly #waiting: Array<(reply: Reply) => void> = [];

  constructor(
    readonly language: GuestLanguage,
    readonly index: number,
    readonly ids: readonly number[],
    trapId?: number,
  ) {
    this.worker = new Worker(WORKER_SCRIPT, { workerData: { language, worker: index, ids, trapId } });
    this.worker.on('message', (reply: Reply) => {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(reply);
      else this.#queued.push(reply);
    });
    this.worker.on('error', (error) => this.errors.push(error));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.exitCode = code;
        live.delete(this);
        resolve(code);
      });
    });
    live.add(this);
  }

  /** The next message from the worker; rejects when it exits first. */
  next(): Promise<Reply> {
    const queued = this.#queued.shift();
    if (queued) return Promise.resolve(queued);
    const reply = new Promise<Reply>((resolve) => this.#waiting.push(resolve));
    const exit = this.exited.then((code) => {
      throw new Error(`worker ${this.index} exited with code ${code}; errors: ${this.errors.map(String).join('; ')}`);
    });
    return Promise.race([reply, exit]);
  }

  post(cmd: string, args: Record<string, unknown> = {}): void {
    this.worker.postMessage({ cmd, ...args });
  }

  /** Sends a command and returns its reply; throws what the worker reported when it failed. */
  async send(cmd: string, args: Record<string, unknown> = {}): Promise<Reply> {
    this.post(cmd, args);
    const reply = await this.next();
    if (reply.reply === 'failed') {
      throw new Error(`worker ${this.index}: ${cmd} failed: ${JSON.stringify(reply.error)}\n${String(reply.stack)}`);
    }
    expect(reply.reply).toBe(cmd);
    return reply;
  }

  async round(r: number): Promise<RoundResult[]> {
    return (await this.send('round', { round: r })).results as RoundResult[];
  }
}

/** Starts `count` workers with `perWorker` sandboxes each; sandbox ids are global. */
function startWorkers(language: GuestLanguage, count: number, perWorker: number, trap?: { worker: number; id: number }) {
  return Array.from({ length: count }, (_, w) => {
    const ids = Array.from({ length: perWorker }, (_, i) => w * perWorker + i);
    return new SandboxWorker(language, w, ids, trap?.worker === w ? trap.id : undefined);
  });
}

async function createAll(workers: readonly SandboxWorker[]): Promise<void> {
  const replies = await Promise.all(workers.map((w) => w.send('create')));
  expect(replies.map((r) => r.count)).toEqual(workers.map((w) => w.ids.length));
}

/** Disposes every worker's sandboxes, checks what each reports, and waits for clean exits. */
async function disposeAll(workers: readonly SandboxWorker[], rounds: (id: number) => number): Promise<void> {
  const replies = await Promise.all(workers.map((w) => w.send('dispose')));
  replies.forEach((reply, k) => {
    const ids = workers[k]!.ids;
    expect(reply.hostCalls).toEqual(Object.fromEntries(ids.map((id) => [id, { HostEchoString: rounds(id), HostAdd: rounds(id) }])));
    expect(reply.increments).toEqual(Object.fromEntries(ids.map((id) => [id, rounds(id) * incrementsPerRound(id)])));
  });
  expect(await Promise.all(workers.map((w) => w.exited))).toEqual(workers.map(() => 0));
  for (const w of workers) expect(w.errors).toEqual([]);
}

afterEach(async () => {
  // A failed test may leave workers running; stop them so the file can finish.
  await Promise.all([...live].map((w) => w.worker.terminate()));
});

forEachGuest('sandboxes in worker threads', (language) => {
  beforeAll(async () => {
    // Warm-up: the first worker and sandbox may open process-wide handles for good.
    const [w] = startWorkers(language, 1, 1);
    await createAll([w!]);
    expect(await w!.round(0)).toEqual([expectedRound(0, 0, 0, 0)]);
    await disposeAll([w!], () => 1);
  }, TIMEOUT);

  it('50 sandboxes in 5 workers run interleaved calls with isolated state and leak nothing', async ({ skip }) => {
    skip(handlesUncountable !== undefined, handlesUncountable);
    const before = resources();
    const workers = startWorkers(language, 5, 10);
    await createAll(workers);
    expect(hypervisorOnly(resources())).toEqual(withSandboxes(before, 50, 5));

    const rounds = 3;
    for (let r = 0; r < rounds; r++) {
      const results = await Promise.all(workers.map((w) => w.round(r)));
      results.forEach((got, w) => {
        const ids = workers[w]!.ids;
        expect(got).toEqual(ids.map((id) => expectedRound(w, id, r, r * incrementsPerRound(id))));
      });
    }

    await disposeAll(workers, () => rounds);
    expect(resources()).toEqual(before);
  }, TIMEOUT);

  it('a sandbox poisoned in one worker leaves the other workers and its siblings working', async () => {
    const before = resourcesWhereCountable();
    const workers = startWorkers(language, 5, 4);
    await createAll(workers);
    const [poisoner, ...others] = workers as [SandboxWorker, ...SandboxWorker[]];
    const victim = 1;
    const expectRound = (got: RoundResult[][], r: number) =>
      got.forEach((results, w) => {
        expect(results).toEqual(
          workers[w]!.ids.map((id) =>
            id === victim && r > 0 ? { id, poisoned: true } : expectedRound(w, id, r, r * incrementsPerRound(id)),
          ),
        );
      });
    expectRound(await Promise.all(workers.map((w) => w.round(0))), 0);

    // The panic runs while the other workers make calls.
    const [panic, ...othersRound1] = await Promise.all([
      poisoner.send('panic', { id: victim, message: `sandbox ${victim} gives up` }),
      ...others.map((w) => w.round(1)),
    ]);
    const first = (panic!.first as { error: ErrorCopy }).error;
    expect(first.name).toBe('GuestPanicError');
    expect(first.code).toBe('HL_ERR_GUEST_PANICKED');
    if (language === 'c') expect(first.guestMessage).toBe(`sandbox ${victim} gives up`);
    else expect(first.guestMessage).toMatch(new RegExp(`^panicked at simpleguest/src/main\\.rs:\\d+:\\d+: sandbox ${victim} gives up$`));
    expect(panic!.second).toEqual({
      error: expect.objectContaining({ name: 'PoisonedSandboxError', code: 'HL_ERR_SANDBOX_POISONED', causeName: 'GuestPanicError' }),
    });
    expect(panic!.poisoned).toBe(true);
    othersRound1.forEach((results, k) => {
      expect(results).toEqual(others[k]!.ids.map((id) => expectedRound(k + 1, id, 1, incrementsPerRound(id))));
    });

    // The poisoner's other sandboxes now catch up; everyone runs round 2.
    const poisonerRound1 = await poisoner.round(1);
    expect(poisonerRound1).toEqual(
      poisoner.ids.map((id) => (id === victim ? { id, poisoned: true } : expectedRound(0, id, 1, incrementsPerRound(id)))),
    );
    expectRound(await Promise.all(workers.map((w) => w.round(2))), 2);

    await disposeAll(workers, (id) => (id === victim ? 1 : 3));
    if (before) expect(resources()).toEqual(before);
  }, TIMEOUT);

  it('terminating workers that hold live sandboxes, one mid-call, releases their fds and mappings', async ({ skip }) => {
    skip(handlesUncountable !== undefined, handlesUncountable);
    const before = resources();
    const trapId = 5; // worker 1's second sandbox
    const [idle, trapped, survivor] = startWorkers(language, 3, 4, { worker: 1, id: trapId }) as [SandboxWorker, SandboxWorker, SandboxWorker];
    const workers = [idle, trapped, survivor];
    await createAll(workers);
    const round0 = await Promise.all(workers.map((w) => w.round(0)));
    round0.forEach((got, w) => expect(got).toEqual(workers[w]!.ids.map((id) => expectedRound(w, id, 0, 0))));
    expect(hypervisorOnly(resources())).toEqual(withSandboxes(before, 12, 3));

    // The trapped worker's guest calls the host, whose function never returns.
    trapped.post('trap');
    expect(await trapped.next()).toEqual({ reply: 'in-callback', id: trapId });

    expect(await Promise.all([idle.worker.terminate(), trapped.worker.terminate()])).toEqual([1, 1]);
    expect(idle.errors).toEqual([]);
    expect(trapped.errors).toEqual([]);
    // The addon's finalizers ran at worker teardown: only the survivor's resources remain.
    expect(hypervisorOnly(resources())).toEqual(withSandboxes(before, 4, 1));

    expect(await survivor.round(1)).toEqual(survivor.ids.map((id) => expectedRound(2, id, 1, incrementsPerRound(id))));
    await disposeAll([survivor], () => 2);
    expect(resources()).toEqual(before);
  }, TIMEOUT);
});
