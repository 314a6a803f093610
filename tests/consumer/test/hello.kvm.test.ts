// Runs the main consumer apps the host prepared (npm-app.test.ts,
// pnpm-app.test.ts) on KVM: hello world through the public API, from an ES
// module and from a CommonJS module, and checkHypervisor() picks KVM.
import { expect, it } from 'vitest';
import type { HypervisorAvailability } from '@hyperlight-ts/core';
import { HELLO_APP_DEPENDENCIES, helloAppName, PACKAGE_MANAGERS } from './support/hello-app.js';
import { describeHypervisor } from './support/hypervisor.js';
import { expectedGreeting, runProgram, type HelloOutput } from './support/programs.js';
import { readReady } from './support/ready.js';

for (const pm of PACKAGE_MANAGERS) {
  describeHypervisor(`the app installed with ${pm} (${HELLO_APP_DEPENDENCIES.dependencies.join(', ')})`, () => {
    const appDir = (): string => readReady(helloAppName(pm)).dir;

    it.each(['esm', 'cjs'] as const)('runs hello world with a host function (%s)', (kind) => {
      expect(runProgram<HelloOutput>(appDir(), 'hello', kind)).toEqual({ greeting: expectedGreeting(kind) });
    });

    it.each(['esm', 'cjs'] as const)('checkHypervisor() picks KVM (%s)', (kind) => {
      expect(runProgram<HypervisorAvailability>(appDir(), 'check', kind).backend).toBe('kvm');
    });
  });
}
