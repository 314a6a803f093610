// Scaffold -> build for both languages, against the workspace's guest-rs and
// guest-c (build them first: `pnpm build`). Running the guests is
// round-trip.kvm.test.ts; here, without a hypervisor, `start` must say why.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { hypervisorMissing } from '@hyperlight-ts/test-support';
import { createAndBuild, runScript } from './support/workspace-project.js';

describe.each(['rust', 'c'] as const)('a %s project', (language) => {
  it('builds with its build script, and its app explains a missing hypervisor', async () => {
    const { project, buildMs } = await createAndBuild(`host-${language}`, language);
    const elf = await readFile(join(project.dir, 'dist/guest.elf'));
    expect(elf.subarray(0, 4)).toEqual(Buffer.from('\x7fELF', 'latin1'));
    console.log(`${language}: build ${buildMs.toFixed(0)} ms, guest ${(await stat(join(project.dir, 'dist/guest.elf'))).size} bytes`);

    if (hypervisorMissing === undefined) return;
    const failure = await runScript(project.dir, 'start').then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('No hypervisor is usable here');
    expect(failure?.stderr).toContain('kvm: ');
  });
});
