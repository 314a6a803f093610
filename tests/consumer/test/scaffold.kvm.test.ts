// The scaffold round trip, hypervisor part: the projects scaffold.test.ts
// prepared on the host start on KVM and print the guest's greeting.
import { expect, it } from 'vitest';
import { describeHypervisor } from './support/hypervisor.js';
import { runOk } from './support/process.js';
import { readReady } from './support/ready.js';
import { SCAFFOLDS, scaffoldAppName, START_GREETING } from './support/scaffold.js';

for (const { lang, pm } of SCAFFOLDS) {
  describeHypervisor(`the scaffolded ${lang} project (${pm})`, () => {
    it(`\`${pm} start\` prints "${START_GREETING}"`, () => {
      const { dir } = readReady(scaffoldAppName(lang, pm));
      expect(runOk(pm, ['run', 'start'], dir)).toContain(START_GREETING);
    });
  });
}
