// Hostile and careless inputs the host must survive: replies that would not
// fit the guest's input buffer, user code that throws values with no usable
// text, host functions that re-enter their own sandbox, guest binaries that
// ask for more memory than allowed, and guest text that would drive the
// terminal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import {
  ConfigurationError, GuestBinary, HostCallbackError, HostFunctionError, HostFunctionNotFoundError, hostFunction, SandboxStateError,
  UninitializedSandbox, type MultiUseSandbox, type Snapshot,
} from '@hyperlight-ts/core';
import { guestPath } from '@hyperlight-ts/fixture-guests';
import { LAZY_MEMORY, requireBackend } from './support/backend-under-test.js';
import { forEachGuest, simpleSandbox, type GuestLanguage } from './support/guests.js';
import { thrown, thrownAs } from './support/thrown.js';
import { reportMeasure } from './support/timing.js';

const TIMEOUT = 120_000;
const MIB = 1024 * 1024;
const MEMORY_CHILD = fileURLToPath(new URL('./support/memory-child.mjs', import.meta.url));
const PRINT_CHILD = fileURLToPath(new URL('./support/print-child.mjs', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'hyperlight-hardening-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs `node script ...args` to completion; fails the test on a non-zero exit. */
function runChild(script: string, args: string[]): string {
  const child = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: TIMEOUT - 10_000 });
  expect(child.error, child.stderr).toBeUndefined();
  expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  return child.stdout;
}

// ---- replies that would not fit -----------------------------------------------

forEachGuest('a host reply always fits the input buffer', (language: GuestLanguage) => {
  it('an unregistered name of 60 000 characters: HostFunctionNotFoundError every time, never poisoned', () => {
    // The name rides in the 64 KiB output buffer; the host's "not registered"
    // reply must fit the 4 KiB input buffer, so it cannot quote the name whole.
    using sandbox = simpleSandbox(language, { outputSize: 64 * 1024, inputSize: 4096 });
    const name = 'x'.repeat(60_000);
    for (let attempt = 0; attempt < 3; attempt++) {
      const error = thrownAs(HostFunctionNotFoundError, () => sandbox.call('CallHostNamedRepeated', 'string', 'x', 60_000));
      expect(error.code).toBe('HL_ERR_HOST_FUNCTION_NOT_FOUND');
      expect(error.functionName).toBe(name);
      expect(error.message.length).toBeLessThan(1000);
      expect(error.message).toContain('60000 characters');
      expect(sandbox.poisoned).toBe(false);
    }
    // A short name of a missing function says so in full; registered functions still answer.
    const missing = thrownAs(HostFunctionNotFoundError, () => sandbox.call('CallHostNamed', 'string', 'NoSuchHostFunction'));
    expect(missing.message).toBe('host function "NoSuchHostFunction" is not registered');
    expect(sandbox.call('CallHostAdd', 'i32', 2, 3)).toBe(5);
    expect(sandbox.call('CallHostEchoString', 'string', 'after')).toBe('after');
    expect(sandbox.call('Increment', 'i32')).toBe(1);
  }, TIMEOUT);
});

// ---- thrown values with no usable text -------------------------------------------

/** Values user code might throw whose text cannot be read. */
function unprintableValues(): Array<{ title: string; value: unknown }> {
  return [
    { title: 'Object.create(null)', value: Object.create(null) },
    {
      title: 'an object whose toString throws',
      value: {
        toString() {
          throw new Error('no text for you');
        },
      },
    },
    {
      title: 'a Proxy that throws on every inspection',
      value: new Proxy(
        {},
        {
          get() {
            throw new Error('get');
          },
          getPrototypeOf() {
            throw new Error('getPrototypeOf');
          },
        },
      ),
    },
  ];
}

forEachGuest('user code that throws unprintable values', (language: GuestLanguage) => {
  for (const { title, value } of unprintableValues()) {
    it(`a host function throwing ${title}: HostFunctionError with it as the cause, not poisoned`, async () => {
      const thrower = hostFunction({ params: [], returns: 'string' }, () => {
        throw value;
      });
      const asyncThrower = hostFunction({ params: [], returns: 'string' }, () => Promise.reject(value));
      using sandbox = simpleSandbox(language, {}, { Thrower: thrower, AsyncThrower: asyncThrower });
      const error = thrownAs(HostFunctionError, () => sandbox.call('CallHostNamed', 'string', 'Thrower'));
      expect(error.code).toBe('HL_ERR_HOST_FUNCTION_FAILED');
      expect(error.functionName).toBe('Thrower');
      expect(error.cause).toBe(value);
      expect(error.detail).toMatch(/unprintable/);
      expect(sandbox.poisoned).toBe(false);
      const rejected = await sandbox.callAsync('CallHostNamed', 'string', 'AsyncThrower').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(rejected).toBeInstanceOf(HostFunctionError);
      expect((rejected as HostFunctionError).cause).toBe(value);
      expect(sandbox.poisoned).toBe(false);
      expect(sandbox.call('CallHostAdd', 'i32', 2, 3)).toBe(5);
    }, TIMEOUT);

    it(`a print function throwing ${title}: HostCallbackError with it as the cause, not poisoned`, () => {
      using sandbox = simpleSandbox(language, {
        print: () => {
          throw value;
        },
      });
      const error = thrownAs(HostCallbackError, () => sandbox.call('Print', 'u32', 'hello'));
      expect(error.code).toBe('HL_ERR_HOST_CALLBACK_FAILED');
      expect(error.callback).toBe('print');
      expect(error.cause).toBe(value);
      expect(error.detail).toMatch(/unprintable/);
      expect(sandbox.poisoned).toBe(false);
      expect(sandbox.call('Add', 'i32', 2, 2)).toBe(4);
    }, TIMEOUT);
  }

  it('a logger throwing Object.create(null): HostCallbackError for the logger', () => {
    const value: unknown = Object.create(null);
    using sandbox = simpleSandbox(language, {
      maxLogLevel: 'info',
      logger: () => {
        throw value;
      },
    });
    const error = thrownAs(HostCallbackError, () => sandbox.call('Log', 'void', 3, 'a warning'));
    expect(error.callback).toBe('logger');
    expect(error.cause).toBe(value);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Add', 'i32', 2, 2)).toBe(4);
  }, TIMEOUT);
});

// ---- re-entrant use from inside the sandbox's own callbacks -------------------------

/** A SandboxStateError that says it came from inside the sandbox's own host function. */
function expectReentrancyError(error: unknown): void {
  expect(error).toBeInstanceOf(SandboxStateError);
  expect((error as SandboxStateError).code).toBe('HL_ERR_SANDBOX_STATE');
  expect((error as SandboxStateError).message).toMatch(/from inside (this sandbox's|its) own host function/);
}

forEachGuest('re-entrant use from a host function', (language: GuestLanguage) => {
  /**
   * A sandbox whose HostAdd first tries, on its own sandbox, everything
   * {@link attempts} lists, recording what each threw, then adds.
   */
  function reentrantSandbox(attempts: (sandbox: MultiUseSandbox) => Array<() => unknown>) {
    const errors: unknown[] = [];
    let sandbox: MultiUseSandbox | undefined;
    sandbox = simpleSandbox(language, {}, {
      HostAdd: hostFunction({ params: ['i32', 'i32'], returns: 'i32' }, (a, b) => {
        for (const attempt of attempts(sandbox!)) errors.push(thrown<unknown>(attempt));
        return a + b;
      }),
    });
    return { sandbox, errors };
  }

  it('call(), snapshot(), restore() and dispose() on its own sandbox throw SandboxStateError; the outer call completes', () => {
    let early: Snapshot | undefined;
    const { sandbox, errors } = reentrantSandbox((s) => [
      () => s.call('Add', 'i32', 1, 2),
      () => s.snapshot(),
      () => s.restore(early!),
      () => s.dispose(),
      () => s[Symbol.dispose](),
    ]);
    using _sandbox = sandbox;
    using snapshot = sandbox.snapshot();
    early = snapshot;
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    expect(sandbox.call('CallHostAdd', 'i32', 20, 22)).toBe(42);
    expect(errors).toHaveLength(5);
    errors.forEach(expectReentrancyError);
    expect(sandbox.poisoned).toBe(false);
    // The sandbox is intact and still usable in every way the host function was refused.
    expect(sandbox.call('Increment', 'i32')).toBe(2);
    expect(sandbox.call('CallHostAddRepeatedly', 'i32', 3)).toBe(3);
    expect(errors).toHaveLength(5 + 3 * 5);
    errors.forEach(expectReentrancyError);
    using later = sandbox.snapshot();
    sandbox.restore(snapshot);
    expect(sandbox.call('Increment', 'i32')).toBe(1);
    sandbox.restore(later);
    expect(sandbox.call('Increment', 'i32')).toBe(3);
  }, TIMEOUT);

  it('the same from a host function of a callAsync() call', async () => {
    const { sandbox, errors } = reentrantSandbox((s) => [() => s.call('Add', 'i32', 1, 2), () => s.snapshot(), () => s.dispose()]);
    using _sandbox = sandbox;
    expect(await sandbox.callAsync('CallHostAdd', 'i32', 20, 22)).toBe(42);
    expect(errors).toHaveLength(3);
    errors.forEach(expectReentrancyError);
    expect(sandbox.poisoned).toBe(false);
    expect(await sandbox.callAsync('Add', 'i32', 1, 2)).toBe(3);
  }, TIMEOUT);

  it('the same from the print function; the printing call completes', () => {
    const errors: unknown[] = [];
    const printed: string[] = [];
    let sandbox: MultiUseSandbox | undefined;
    sandbox = simpleSandbox(language, {
      print: (text) => {
        printed.push(text);
        errors.push(thrown<unknown>(() => sandbox!.call('Add', 'i32', 1, 2)), thrown<unknown>(() => sandbox!.dispose()));
      },
    });
    using _sandbox = sandbox;
    expect(sandbox.call('Print', 'u32', 'hello')).toBe(5);
    expect(printed.join('')).toBe('hello');
    expect(errors.length).toBeGreaterThanOrEqual(2);
    errors.forEach(expectReentrancyError);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
  }, TIMEOUT);
});

// ---- guest memory limits -------------------------------------------------------------

const PT_LOAD = 1;
const PF_W = 2;
const ELF64_PHDR_SIZE = 56;

/**
 * A copy of `elf` whose last writable PT_LOAD segment (the one holding
 * `.bss`) is `extraBytes` larger in memory: more zero-initialised memory,
 * the same file contents. Program headers are read as ELF64 little-endian:
 * the table at `e_phoff` (+0x20), `e_phentsize` (+0x36), `e_phnum` (+0x38);
 * in each entry `p_type` +0, `p_flags` +4, `p_vaddr` +16, `p_memsz` +40.
 */
function growWritableSegment(elf: Uint8Array, extraBytes: number): Uint8Array {
  const copy = new Uint8Array(elf);
  const view = new DataView(copy.buffer);
  const phoff = Number(view.getBigUint64(0x20, true));
  const phentsize = view.getUint16(0x36, true);
  const phnum = view.getUint16(0x38, true);
  expect(phentsize).toBe(ELF64_PHDR_SIZE);
  let last: { at: number; end: bigint } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (view.getUint32(at, true) !== PT_LOAD || (view.getUint32(at + 4, true) & PF_W) === 0) continue;
    const end = view.getBigUint64(at + 16, true) + view.getBigUint64(at + 40, true);
    if (!last || end > last.end) last = { at, end };
  }
  if (!last) throw new Error('the guest has no writable PT_LOAD segment');
  view.setBigUint64(last.at + 40, view.getBigUint64(last.at + 40, true) + BigInt(extraBytes), true);
  return copy;
}

forEachGuest('maxMemorySize caps guest memory, the image included', (language: GuestLanguage) => {
  const elf = readFileSync(guestPath(language, 'simpleguest'));

  it('a .bss 600 MiB larger is refused by create() with the default 256 MiB: ConfigurationError maxMemorySize', () => {
    const huge = GuestBinary.fromBytes(growWritableSegment(elf, 600 * MIB));
    expect(huge.image.imageSize).toBeGreaterThan(600 * MIB);
    const error = thrownAs(ConfigurationError, () => UninitializedSandbox.create(huge));
    expect(error.code).toBe('HL_ERR_CONFIG_INVALID');
    expect(error.option).toBe('maxMemorySize');
    expect(error.message).toMatch(/maxMemorySize/);
    // The same refusal with an explicit limit the image alone exceeds.
    expect(thrownAs(ConfigurationError, () => UninitializedSandbox.create(huge, { maxMemorySize: 512 * MIB })).option).toBe('maxMemorySize');
  });

  it('a .bss 200 MiB larger needs maxMemorySize: refused at 256 MiB, runs at 512 MiB', () => {
    const large = GuestBinary.fromBytes(growWritableSegment(elf, 200 * MIB));
    const error = thrownAs(ConfigurationError, () => UninitializedSandbox.create(large, { maxMemorySize: 200 * MIB }));
    expect(error.option).toBe('maxMemorySize');
    using sandbox = UninitializedSandbox.create(large, { maxMemorySize: 512 * MIB }).evolve();
    expect(sandbox.call('Add', 'i32', 1, 2)).toBe(3);
    expect(sandbox.call('SetStatic', 'u32')).toBe(1); // a 1 MiB .bss array the guest really uses
  }, TIMEOUT);

  it('an untouched 200 MiB .bss costs (almost) no resident memory', ({ skip }) => {
    requireBackend(skip, ['kvm'], LAZY_MEMORY);
    const file = join(scratch, `${language}-bss-200m.elf`);
    writeFileSync(file, growWritableSegment(elf, 200 * MIB));
    const result = JSON.parse(runChild(MEMORY_CHILD, [language, file, String(512 * MIB)])) as {
      beforeBytes: number;
      afterBytes: number;
      add: number;
      increment: number;
    };
    expect({ add: result.add, increment: result.increment }).toEqual({ add: 3, increment: 1 });
    const grownBytes = result.afterBytes - result.beforeBytes;
    reportMeasure(`resident memory of a sandbox with a 200 MiB .bss [${language}]`, `${(grownBytes / MIB).toFixed(1)} MiB`);
    expect(grownBytes).toBeLessThan(32 * MIB);
  }, TIMEOUT);
});

// ---- guest text on the terminal ---------------------------------------------------------

/** Text a guest might print to take over a terminal, and how the default print shows it. */
const CONTROL_TEXT = 'red \x1b[31mRED\x1b[0m bell\x07 cr\r bs\x08 del\x7f csi\u009b2J rlo\u202eevil tab\tnl\nend';
const CONTROL_TEXT_SHOWN = 'red \\x1b[31mRED\\x1b[0m bell\\x07 cr\\x0d bs\\x08 del\\x7f csi\\x9b2J rlo\\u202eevil tab\tnl\nend';

forEachGuest('guest text and the terminal', (language: GuestLanguage) => {
  it('the default print shows ESC and other controls as escapes; tabs and newlines stay', () => {
    const stdout = runChild(PRINT_CHILD, [language, JSON.stringify(CONTROL_TEXT)]);
    const between = /<<<\n([^]*)\n>>>\n/.exec(stdout);
    expect(between, stdout).not.toBeNull();
    expect(between![1]).toBe(CONTROL_TEXT_SHOWN);
    // Nothing but tab and newline among the C0/C1 controls reached the terminal.
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  }, TIMEOUT);

  it('a print function of the user receives the exact text', () => {
    const printed: string[] = [];
    using sandbox = simpleSandbox(language, { print: (text) => printed.push(text) });
    expect(sandbox.call('Print', 'u32', CONTROL_TEXT)).toBe(new TextEncoder().encode(CONTROL_TEXT).length);
    expect(printed.join('')).toBe(CONTROL_TEXT);
  }, TIMEOUT);
});
