// Scaffold -> build -> call, for both languages: each generated project's
// `start` runs its guest in a micro VM. The projects use the workspace's
// packages (guest-rs and guest-c built with `pnpm build`).
import { expect, it } from 'vitest';

import { describeHypervisor } from '@hyperlight-ts/test-support';
import { createAndBuild, runScript } from './support/workspace-project.js';

for (const language of ['rust', 'c'] as const) {
  describeHypervisor(`a ${language} project`, () => {
    it('greets Node.js, calls the host, and restores a snapshot', async () => {
      const { project } = await createAndBuild(`kvm-${language}`, language);
      const { stdout } = await runScript(project.dir, 'start');
      expect(stdout).toContain('Hello, Node.js!');
      expect(stdout).toContain('The host says: "who is there?": Node.js');
      expect(stdout).toContain('Count: 2 before restoring the snapshot, 1 after');
    });
  });
}
