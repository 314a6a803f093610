import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { GuestBinary, UninitializedSandbox } from '@hyperlight-ts/core';
import { describeHypervisor } from './support/guests.js';

const exampleDir = dirname(createRequire(import.meta.url).resolve('@hyperlight-ts/example-hello-world/package.json'));
const guestPath = join(exampleDir, 'dist/hello-world-guest.elf');

describeHypervisor('hello world', () => {
  it('runs the documented flow', () => {
    const u = UninitializedSandbox.create(GuestBinary.fromFile(guestPath));
    u.register('GetWeekday', { params: [], returns: 'string' }, () => 'Monday');
    using sandbox = u.evolve();
    expect(sandbox.call('SayHello', 'string', 'World')).toBe('Hello, World! Today is Monday.');
  });

  it('the example program prints the greeting', () => {
    const out = execFileSync('pnpm', ['start'], { cwd: exampleDir, encoding: 'utf8' });
    expect(out).toMatch(/^Hello, World! Today is \w+day\.$/m);
  });
});
