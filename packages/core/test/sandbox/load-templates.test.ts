import { describe, expect, it } from 'vitest';
import { Ports } from '../../src/abi/generated.js';
import { encodeFunctionCallResult, LogLevel } from '../../src/protocol/codec.js';
import type { SandboxConfiguration } from '../../src/sandbox/config.js';
import type { GuestBinary } from '../../src/sandbox/guest-binary.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { placeholderBinary, scriptedBackend, type ScriptedGuest } from '../support/scripted-backend.js';

/** Guest memory as each initialisation found it, in creation order. */
function recordingGuest(seen: Uint8Array[]): ScriptedGuest {
  return function* (ctx) {
    if (ctx.op === 0) {
      seen.push(ctx.memory.subarray(0, ctx.memory.size).slice());
      // Initialisation writes memory, as a real guest's does (heap, statics).
      ctx.memory.writeU32(ctx.peb('heapGva'), 0xdeadbeef);
      return yield* ctx.init([{ name: 'LogLevel', parameters: [], returnType: 'i32' }]);
    }
    ctx.writeOutput(encodeFunctionCallResult({ ok: true, value: { type: 'i32', value: ctx.peb('maxLogLevel') } }));
    yield ctx.out(Ports.HALT);
  };
}

/** A scripted backend that also records, per VM, whether it was created over a template. */
function recordingBackend(seen: Uint8Array[]) {
  const backend = scriptedBackend(recordingGuest(seen));
  const fromTemplate: boolean[] = [];
  const createVm = backend.createVm;
  Object.assign(backend, {
    createVm: (options: Parameters<typeof createVm>[0]) => {
      fromTemplate.push(options.memory !== undefined);
      return createVm(options);
    },
  });
  return Object.assign(backend, { fromTemplate });
}

function setup() {
  const seen: Uint8Array[] = [];
  const backend = recordingBackend(seen);
  const binary = placeholderBinary();
  const create = (config: SandboxConfiguration = {}, on = backend, of: GuestBinary = binary) =>
    UninitializedSandbox.create(of, { ...config, backend: on }).evolve();
  return { seen, backend, binary, create };
}

describe('loaded-memory templates', () => {
  it('the second sandbox of a binary maps the first one\'s loaded memory and finds exactly what a fresh load writes', () => {
    const { seen, backend, create } = setup();
    const first = create();
    const second = create();
    expect(backend.fromTemplate).toEqual([false, true]);
    expect(seen).toHaveLength(2);
    expect(Buffer.compare(seen[1]!, seen[0]!)).toBe(0); // not the first one's memory after its initialisation
    expect(seen[0]!.some((b) => b !== 0)).toBe(true); // page tables, PEB, image
    expect([first.call('LogLevel', 'i32'), second.call('LogLevel', 'i32')]).toEqual([LogLevel.Off, LogLevel.Off]);
  });

  it('is keyed by layout, log level, backend and binary; sandboxes with init data are always loaded afresh', () => {
    const { seen, backend, create } = setup();
    const base = create();
    const other = recordingBackend(seen);
    const variants = [
      create({ heapSize: 2 * 1024 * 1024 }),
      create({ maxLogLevel: 'warn', logger: () => undefined }),
      create({}, other),
      create({}, backend, placeholderBinary()),
      create({ initData: new Uint8Array([1, 2, 3]) }),
    ];
    expect(variants[1]!.call('LogLevel', 'i32')).toBe(LogLevel.Warn);
    expect(base.call('LogLevel', 'i32')).toBe(LogLevel.Off);
    // A template of each variant's own key now exists, except for init data.
    const again = [create({ heapSize: 2 * 1024 * 1024 }), create({ maxLogLevel: 'warn', logger: () => undefined }), create({}, other), create({ initData: new Uint8Array([1, 2, 3]) })];
    expect(again[1]!.call('LogLevel', 'i32')).toBe(LogLevel.Warn);
    const sameAs = (later: number, earlier: number): boolean => Buffer.compare(seen[later]!, seen[earlier]!) === 0;
    // seen: 0 base, 1-5 variants, 6-9 again.
    expect([sameAs(6, 1), sameAs(7, 2), sameAs(8, 3), sameAs(9, 5)]).toEqual([true, true, true, true]);
    expect(sameAs(1, 0) || sameAs(2, 0)).toBe(false);
    expect(backend.fromTemplate).toEqual([false, false, false, false, false, true, true, false]);
    expect(other.fromTemplate).toEqual([false, true]);
  });

  it('uses the template only on the backend that made it', () => {
    const { backend, create } = setup();
    create();
    const other = recordingBackend([]);
    create({}, other);
    expect(other.fromTemplate).toEqual([false]);
  });
});
