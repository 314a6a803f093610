import { expect, it } from 'vitest';
import {
  GuestExceptionError, GuestOutOfMemoryError, GuestStackOverflowError, GuestUnknownPortError, MessageTooLargeError,
  PoisonedSandboxError, UninitializedSandbox, type GuestBinary, type HyperlightError, type MultiUseSandbox,
  type SandboxConfiguration, type ValueTypeName,
} from '@hyperlight-ts/core';
import { forEachGuest, registerTestHostFunctions, simpleGuest, type GuestLanguage } from './support/guests.js';
import { thrownAs } from './support/thrown.js';

const KIB = 1024;
const MIB = 1024 * KIB;

/** An evolved sandbox over an already loaded binary. */
function sandboxFrom(binary: GuestBinary, config: SandboxConfiguration = {}): MultiUseSandbox {
  return registerTestHostFunctions(UninitializedSandbox.create(binary, config)).evolve();
}

/** `error` poisoned `sandbox`: the next call is refused with it as the cause. */
function expectPoisonedBy(sandbox: MultiUseSandbox, error: HyperlightError): void {
  expect(sandbox.poisoned).toBe(true);
  const next = thrownAs(PoisonedSandboxError, () => sandbox.call('Add', 'i32', 1, 2));
  expect(next.code).toBe('HL_ERR_SANDBOX_POISONED');
  expect(next.cause).toBe(error);
  expect(next.poison).toBe(error);
  expect(next.message).toBe(`sandbox is poisoned by an earlier ${error.code}: ${error.message}`);
}

/**
 * Calls `name` in a new sandbox, expecting it to throw `type`; checks that
 * the error poisons the sandbox and that a new sandbox from the same binary
 * works afterwards.
 */
function expectFault<E extends HyperlightError>(
  language: GuestLanguage,
  type: abstract new (...args: never[]) => E,
  name: string,
  returns: ValueTypeName,
  ...args: unknown[]
): E {
  const binary = simpleGuest(language);
  let error: E;
  {
    using sandbox = sandboxFrom(binary);
    error = thrownAs(type, () => sandbox.call(name, returns, ...args));
    expectPoisonedBy(sandbox, error);
  }
  using fresh = sandboxFrom(binary);
  expect(fresh.call('Add', 'i32', 2, 3)).toBe(5);
  expect(fresh.poisoned).toBe(false);
  return error;
}

/** A #GP with error code 0, as privileged instructions and denied ports raise at CPL3. */
function expectGeneralProtection(error: GuestExceptionError): void {
  expect(error.code).toBe('HL_ERR_GUEST_EXCEPTION');
  expect(error.vector).toBe(13);
  expect(error.errorCode).toBe(0n);
  expect(error.faultAddress).toBeUndefined();
  expect(error.message).toBe(`guest exception 13 (#GP general protection) at rip 0x${error.rip.toString(16)}, error code 0x0`);
}

/** What each guest's allocator says when `AllocateBytes(n)` cannot be satisfied from a heap of `heapSize` bytes. */
function expectAllocationFailure(language: GuestLanguage, error: GuestOutOfMemoryError, n: number, heapSize: number): void {
  expect(error.code).toBe('HL_ERR_GUEST_OUT_OF_MEMORY');
  expect(error.message).toBe(`guest ran out of heap memory: ${error.guestMessage} (raise heapSize?)`);
  if (language === 'c') {
    expect(error.guestMessage).toBe(`malloc(${n}) failed: guest heap exhausted`);
    return;
  }
  const match = /^out of memory: an allocation of (\d+) bytes \(align 1\) failed; (\d+) of the heap's (\d+) bytes are free, the largest free block is (\d+) bytes$/.exec(error.guestMessage);
  expect(match, error.guestMessage).not.toBeNull();
  const [size, free, total, largest] = match!.slice(1).map(Number) as [number, number, number, number];
  expect(size).toBe(n);
  expect(total).toBe(heapSize);
  expect(free).toBeLessThanOrEqual(total);
  expect(largest).toBeLessThanOrEqual(free);
  expect(largest).toBeLessThan(n);
}

forEachGuest('guest heap', (language) => {
  it('AllocateBytes returns n for sizes up to most of the default 1 MiB heap, again and again', () => {
    using sandbox = sandboxFrom(simpleGuest(language));
    for (const n of [0, 1, 1000, 64 * KIB, 900 * KIB, 900 * KIB, 1, 900 * KIB]) {
      expect(sandbox.call('AllocateBytes', 'u32', n)).toBe(n);
    }
    expect(sandbox.poisoned).toBe(false);
  });

  it('an allocation bigger than the heap is GuestOutOfMemoryError and poisons', () => {
    const error = expectFault(language, GuestOutOfMemoryError, 'AllocateBytes', 'u32', 2 * MIB);
    expectAllocationFailure(language, error, 2 * MIB, MIB);
  });

  it('ExhaustHeap is GuestOutOfMemoryError and poisons', () => {
    const error = expectFault(language, GuestOutOfMemoryError, 'ExhaustHeap', 'void');
    expect(error.code).toBe('HL_ERR_GUEST_OUT_OF_MEMORY');
    expect(error.message).toBe(`guest ran out of heap memory: ${error.guestMessage} (raise heapSize?)`);
    if (language === 'c') {
      const match = /^guest heap exhausted after allocating (\d+) bytes$/.exec(error.guestMessage);
      expect(match, error.guestMessage).not.toBeNull();
      const total = Number(match![1]);
      expect(total).toBeGreaterThan(0.9 * MIB);
      expect(total).toBeLessThanOrEqual(MIB);
    } else {
      const match = /^out of memory: an allocation of (\d+) bytes \(align (\d+)\) failed; (\d+) of the heap's (\d+) bytes are free, the largest free block is (\d+) bytes$/.exec(error.guestMessage);
      expect(match, error.guestMessage).not.toBeNull();
      const [size, , free, total, largest] = match!.slice(1).map(Number) as number[];
      expect(total).toBe(MIB);
      expect(largest).toBeLessThan(size!);
      expect(free).toBeLessThan(0.1 * MIB); // the heap really was used up
    }
  });

  it('heapSize decides what fits', () => {
    const binary = simpleGuest(language);
    {
      using big = sandboxFrom(binary, { heapSize: 4 * MIB });
      expect(big.call('AllocateBytes', 'u32', 2 * MIB)).toBe(2 * MIB);
      expect(big.call('AllocateBytes', 'u32', 3 * MIB)).toBe(3 * MIB);
    }
    using small = sandboxFrom(binary, { heapSize: 64 * KIB });
    expect(small.call('AllocateBytes', 'u32', 16 * KIB)).toBe(16 * KIB);
    const error = thrownAs(GuestOutOfMemoryError, () => small.call('AllocateBytes', 'u32', 100 * KIB));
    expectAllocationFailure(language, error, 100 * KIB, 64 * KIB);
    expectPoisonedBy(small, error);
  });

  it('ExhaustHeap uses up a bigger heap before failing', () => {
    using sandbox = sandboxFrom(simpleGuest(language), { heapSize: 4 * MIB });
    const error = thrownAs(GuestOutOfMemoryError, () => sandbox.call('ExhaustHeap', 'void'));
    if (language === 'c') {
      const total = Number(/after allocating (\d+) bytes$/.exec(error.guestMessage)?.[1]);
      expect(total).toBeGreaterThan(3.9 * MIB);
      expect(total).toBeLessThanOrEqual(4 * MIB);
    } else {
      expect(error.guestMessage).toMatch(/ of the heap's 4194304 bytes are free, /);
    }
    expectPoisonedBy(sandbox, error);
  });
});

forEachGuest('guest stack', (language) => {
  /** Checks a stack overflow's fields against its message. */
  const expectOverflow = (error: GuestStackOverflowError): void => {
    expect(error.code).toBe('HL_ERR_GUEST_STACK_OVERFLOW');
    expect(error.rip).toBeGreaterThan(0n);
    expect(error.faultAddress).toBeGreaterThan(0n);
    expect(error.message).toBe(
      `guest stack overflow at rip 0x${error.rip.toString(16)} (touched 0x${error.faultAddress.toString(16)}; raise stackSize?)`,
    );
  };

  it('StackRecurse returns its depth while the stack suffices', () => {
    using sandbox = sandboxFrom(simpleGuest(language));
    for (const depth of [0, 1, 10, 100, 150]) expect(sandbox.call('StackRecurse', 'u32', depth)).toBe(depth);
    expect(sandbox.poisoned).toBe(false);
  });

  it('StackOverflow is GuestStackOverflowError, poisons, and a new sandbox from the same binary works', () => {
    expectOverflow(expectFault(language, GuestStackOverflowError, 'StackOverflow', 'void', 7));
  });

  it('recursion deeper than the default 256 KiB stack overflows it', () => {
    expectOverflow(expectFault(language, GuestStackOverflowError, 'StackRecurse', 'u32', 1000));
  });

  it('stackSize decides the depth that fits', () => {
    const binary = simpleGuest(language);
    {
      using big = sandboxFrom(binary, { stackSize: 2 * MIB });
      expect(big.call('StackRecurse', 'u32', 1000)).toBe(1000);
      expect(big.call('StackRecurse', 'u32', 1500)).toBe(1500);
    }
    using small = sandboxFrom(binary, { stackSize: 64 * KIB });
    expect(small.call('StackRecurse', 'u32', 10)).toBe(10);
    const error = thrownAs(GuestStackOverflowError, () => small.call('StackRecurse', 'u32', 100));
    expectOverflow(error);
    expectPoisonedBy(small, error);
  });
});

forEachGuest('CPU faults and ports', (language) => {
  it('OutUnknownPort is GuestUnknownPortError for port 0x99 and poisons', () => {
    const error = expectFault(language, GuestUnknownPortError, 'OutUnknownPort', 'void');
    expect(error.code).toBe('HL_ERR_GUEST_UNKNOWN_PORT');
    expect(error.port).toBe(0x99);
    expect(error.access).toBe('out');
    expect(error.message).toBe('guest wrote to unknown I/O port 0x99');
  });

  it('OutPort to an unused port below 0x100 is GuestUnknownPortError (only the low 16 bits count)', () => {
    const error = expectFault(language, GuestUnknownPortError, 'OutPort', 'void', 0x1_0042, 7);
    expect(error.port).toBe(0x42);
    expect(error.message).toBe('guest wrote to unknown I/O port 0x42');
  });

  // The exception-stub ports (a guest must not forge an exception exit) and
  // every port from 0x100 up are outside the TSS I/O bitmap's grant.
  for (const port of [0xc0, 0xc0 + 14, 0xdf, 0x100, 0x1234, 0xffff]) {
    it(`OutPort to denied port 0x${port.toString(16)} is #GP`, () => {
      expectGeneralProtection(expectFault(language, GuestExceptionError, 'OutPort', 'void', port, 0));
    });
  }

  it('Int3 is #BP, vector 3, without an error code', () => {
    const error = expectFault(language, GuestExceptionError, 'Int3', 'void');
    expect(error.vector).toBe(3);
    expect(error.rip).toBeGreaterThan(0n);
    expect(error.errorCode).toBeUndefined();
    expect(error.faultAddress).toBeUndefined();
    expect(error.message).toBe(`guest exception 3 (#BP breakpoint) at rip 0x${error.rip.toString(16)}`);
  });

  it('Hlt is privileged at CPL3: #GP, vector 13', () => {
    expectGeneralProtection(expectFault(language, GuestExceptionError, 'Hlt', 'void'));
  });

  it('NullDeref is #PF at address 0 (user-mode read of a page that is not present)', () => {
    const error = expectFault(language, GuestExceptionError, 'NullDeref', 'u64');
    expect(error.vector).toBe(14);
    expect(error.faultAddress).toBe(0n);
    expect(error.errorCode).toBe(0x4n); // not present | read | user
    expect(error.message).toBe(`guest exception 14 (#PF page fault) at rip 0x${error.rip.toString(16)}, error code 0x4, address 0x0`);
  });

  it('WriteToCode is #PF: a write to a present, read-only page of the image', () => {
    const error = expectFault(language, GuestExceptionError, 'WriteToCode', 'void');
    expect(error.vector).toBe(14);
    expect(error.errorCode).toBe(0x7n); // present | write | user
    expect(error.faultAddress).toBe(error.rip); // the guest writes over the writing instruction
    expect(error.message).toBe(
      `guest exception 14 (#PF page fault) at rip 0x${error.rip.toString(16)}, error code 0x7, address 0x${error.faultAddress!.toString(16)}`,
    );
  });

  it('ExecuteHeap is #PF on the instruction fetch (the heap is no-execute)', () => {
    const error = expectFault(language, GuestExceptionError, 'ExecuteHeap', 'void');
    expect(error.vector).toBe(14);
    expect(error.errorCode).toBe(0x15n); // present | user | instruction fetch (0x10)
    expect(error.errorCode! & 0x10n).toBe(0x10n);
    expect(error.faultAddress).toBe(error.rip); // the fetch itself faulted
  });
});

forEachGuest('messages too large for their buffer', (language) => {
  it('a result bigger than outputSize is MessageTooLargeError and does not poison', () => {
    using sandbox = sandboxFrom(simpleGuest(language), { outputSize: 16 * KIB });
    expect(sandbox.call('LargeResult', 'bytes', 8 * KIB)).toEqual(new Uint8Array(8 * KIB).fill(0xab));
    const error = thrownAs(MessageTooLargeError, () => sandbox.call('LargeResult', 'bytes', 16 * KIB));
    expect(error.code).toBe('HL_ERR_MESSAGE_TOO_LARGE');
    expect(error.what).toBe('a message from guest function "LargeResult" (its result or a host call\'s arguments)');
    expect(error.capacityBytes).toBe(16 * KIB);
    expect(error.option).toBe('outputSize');
    expect(error.message).toBe(`${error.what} does not fit in the 16384-byte buffer (raise outputSize)`);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('LargeResult', 'bytes', 3)).toEqual(Uint8Array.of(0xab, 0xab, 0xab));
  });

  it('arguments bigger than inputSize are MessageTooLargeError before the guest runs', () => {
    using sandbox = sandboxFrom(simpleGuest(language), { inputSize: 16 * KIB });
    const error = thrownAs(MessageTooLargeError, () => sandbox.call('EchoBytes', 'bytes', new Uint8Array(20_000)));
    expect(error.what).toBe('call of "EchoBytes"');
    expect(error.sizeBytes).toBeGreaterThan(20_000);
    expect(error.capacityBytes).toBe(16 * KIB);
    expect(error.option).toBe('inputSize');
    expect(error.message).toBe(`call of "EchoBytes" needs ${error.sizeBytes} bytes, more than the 16384-byte buffer (raise inputSize)`);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('EchoBytes', 'bytes', Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 2));
  });

  it('a host call bigger than outputSize is MessageTooLargeError and never reaches the host', () => {
    const received: number[] = [];
    using sandbox = UninitializedSandbox.create(simpleGuest(language), { outputSize: 16 * KIB })
      .register('HostEchoBytes', { params: ['bytes'], returns: 'bytes' }, (bytes) => {
        received.push(bytes.length);
        return bytes;
      })
      .evolve();
    expect(sandbox.call('CallHostEchoBytesOfSize', 'u32', 1000)).toBe(1000);
    expect(received).toEqual([1000]);
    const error = thrownAs(MessageTooLargeError, () => sandbox.call('CallHostEchoBytesOfSize', 'u32', 16 * KIB));
    expect(error.code).toBe('HL_ERR_MESSAGE_TOO_LARGE');
    expect(error.capacityBytes).toBe(16 * KIB);
    expect(error.option).toBe('outputSize');
    expect(error.message).toContain('"CallHostEchoBytesOfSize"');
    expect(error.message).toMatch(/ the 16384-byte buffer \(raise outputSize\)$/);
    expect(received).toEqual([1000]);
    expect(sandbox.poisoned).toBe(false);
    expect(sandbox.call('CallHostEchoBytesOfSize', 'u32', 5)).toBe(5);
    expect(received).toEqual([1000, 5]);
  });
});
