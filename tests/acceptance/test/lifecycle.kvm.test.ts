import { readdirSync } from 'node:fs';
import { expect, it } from 'vitest';
import { GuestBinary, SandboxStateError, UninitializedSandbox } from '@hyperlight-ts/core';
import { forEachGuest, registerTestHostFunctions, simpleGuest, simpleSandbox } from './support/guests.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;

forEachGuest('sandbox lifecycle', (language) => {
  it('guest state persists across 1000 sequential calls', () => {
    using sandbox = simpleSandbox(language);
    for (let i = 1; i <= 1000; i++) expect(sandbox.call('Increment', 'i32')).toBe(i);
  });

  it('50 sandboxes created and disposed leak no file descriptors', () => {
    const binary: GuestBinary = simpleGuest(language);
    simpleSandbox(language).dispose(); // warm up lazily opened handles (e.g. /dev/kvm probing)
    const before = openFds();
    for (let i = 0; i < 50; i++) {
      const sandbox = registerTestHostFunctions(UninitializedSandbox.create(binary)).evolve();
      expect(sandbox.call('Add', 'i32', i, 1)).toBe(i + 1);
      sandbox.dispose();
    }
    expect(openFds()).toBe(before);
  });

  it('an uninitialized sandbox cannot be used after evolve()', () => {
    const u = registerTestHostFunctions(UninitializedSandbox.create(simpleGuest(language)));
    using sandbox = u.evolve();
    expect(() => u.evolve()).toThrow(SandboxStateError);
    expect(() => u.register('Late', { params: [], returns: 'void' }, () => undefined)).toThrow(SandboxStateError);
    expect(sandbox.call('Add', 'i32', 2, 3)).toBe(5);
  });

  it('a disposed sandbox refuses calls', () => {
    const sandbox = simpleSandbox(language);
    sandbox.dispose();
    sandbox.dispose();
    expect(() => sandbox.call('Add', 'i32', 1, 1)).toThrow(SandboxStateError);
  });

  it('the guest publishes its functions with their signatures', () => {
    using sandbox = simpleSandbox(language);
    expect(sandbox.guestFunctions.get('Add')).toEqual({ name: 'Add', params: ['i32', 'i32'], returns: 'i32' });
    expect(sandbox.guestFunctions.get('EchoBytes')).toEqual({ name: 'EchoBytes', params: ['bytes'], returns: 'bytes' });
  });

  it('a 1 MiB zero-initialised static array starts zeroed, is writable and persists', () => {
    using a = simpleSandbox(language);
    expect(a.call('SetStatic', 'u32')).toBe(1);
    expect(a.call('SetStatic', 'u32')).toBe(2);
    using b = simpleSandbox(language);
    expect(b.call('SetStatic', 'u32')).toBe(1);
    expect(a.call('SetStatic', 'u32')).toBe(3);
  });
});

