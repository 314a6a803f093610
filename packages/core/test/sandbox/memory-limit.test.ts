// The host application, not the guest binary, sets how much memory a sandbox may have.
import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/errors.js';
import { DEFAULT_MAX_MEMORY_SIZE } from '../../src/sandbox/config.js';
import { GuestBinary } from '../../src/sandbox/guest-binary.js';
import { MultiUseSandbox } from '../../src/sandbox/multi-use-sandbox.js';
import { UninitializedSandbox } from '../../src/sandbox/uninitialized-sandbox.js';
import { buildElf, minimalPie } from '../fixtures/elf-builder.js';
import { scriptedBackend, type ScriptedGuest } from '../support/scripted-backend.js';
import { thrown } from '../support/thrown.js';

const MIB = 1024 * 1024;

/** A valid guest binary whose writable segment (its `.bss`) is `bssBytes` long. */
function binaryWithBss(bssBytes: number): GuestBinary {
  const spec = minimalPie();
  spec.phdrs![2]!.memsz = BigInt(bssBytes);
  return GuestBinary.fromBytes(buildElf(spec));
}

const idle: ScriptedGuest = function* (ctx) {
  return yield* ctx.init([]);
};


describe('maxMemorySize', () => {
  it('defaults to 256 MiB: a binary with a 512 MiB .bss is refused with an error naming the option', () => {
    expect(DEFAULT_MAX_MEMORY_SIZE).toBe(256 * MIB);
    const error = thrown(() => UninitializedSandbox.create(binaryWithBss(512 * MIB), { backend: scriptedBackend(idle) }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).toMatchObject({ option: 'maxMemorySize' });
    expect((error as Error).message).toMatch(/guest memory would need \d+ bytes \(imageSize \d+, .*\), more than maxMemorySize \(268435456\); raise maxMemorySize or lower imageSize/);
  });

  it('counts every area: a heap that crosses a small limit is refused, and raising the limit admits it', () => {
    const binary = binaryWithBss(0x2000);
    expect(() => UninitializedSandbox.create(binary, { backend: scriptedBackend(idle), heapSize: 8 * MIB, maxMemorySize: 8 * MIB }))
      .toThrow(/more than maxMemorySize \(8388608\); raise maxMemorySize or lower heapSize/);
    const backend = scriptedBackend(idle);
    UninitializedSandbox.create(binary, { backend, heapSize: 8 * MIB, maxMemorySize: 9 * MIB }).evolve().dispose();
    expect(backend.vms[0]!.memory.byteLength).toBeLessThanOrEqual(9 * MIB);
  });

  it('applies to sandboxes made from a snapshot', () => {
    const backend = scriptedBackend(idle);
    const sandbox = UninitializedSandbox.create(binaryWithBss(0x2000), { backend, heapSize: 4 * MIB }).evolve();
    const snapshot = sandbox.snapshot();
    expect(() => MultiUseSandbox.fromSnapshot(snapshot, { maxMemorySize: 2 * MIB })).toThrow(/maxMemorySize/);
    MultiUseSandbox.fromSnapshot(snapshot, { maxMemorySize: 8 * MIB }).dispose();
  });

  it.each([0, -1, 1.5, 2 ** 30 + 1, '1G'])('rejects %s', (value) => {
    expect(() => UninitializedSandbox.create(binaryWithBss(0x2000), { backend: scriptedBackend(idle), maxMemorySize: value as never }))
      .toThrow(expect.objectContaining({ option: 'maxMemorySize' }));
  });
});
