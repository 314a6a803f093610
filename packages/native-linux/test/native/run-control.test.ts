// RunControl without a hypervisor: a test addon (test/native/run-control-probe)
// built from the shared sources with tools/build-addon.mjs plays
// one blocking run (ppoll stands in for the run ioctl) that the watchdog
// cancels from its own thread, with the cancel's first kick landing before the
// blocking call, where it is lost.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CALL_STATE } from '@hyperlight-ts/core/backend';

interface BlockedRunResult {
  skipped: boolean;
  interrupted: boolean;
  elapsedMs: number;
  reason: number;
  immediateExitDuring: number;
  immediateExitAfter: number;
}

interface Probe {
  abi: { callState: Record<string, number> };
  blockedRun(options: { withImmediateExit: boolean; timeoutMs: number; spinMs: number; blockMs: number }): BlockedRunResult;
  cancelCall(id: number, reasonCode: number): boolean;
}

const probeDir = fileURLToPath(new URL('./run-control-probe', import.meta.url));
const require = createRequire(import.meta.url);
let probe: Probe;

beforeAll(() => {
  // The backends' build tool, incremental: only what changed since the last run is compiled again.
  const tool = fileURLToPath(new URL('../../tools/build-addon.mjs', import.meta.url));
  const addonPath = join(probeDir, 'build', 'run_control_probe.node');
  execFileSync(process.execPath, [tool, '--libc', 'gnu', '--name', 'run_control_probe', '--src', '.', '--out', addonPath, '--build-dir', 'build/gnu'], {
    cwd: probeDir,
    stdio: 'pipe',
  });
  probe = require(addonPath) as Probe;
}, 600_000); // compiling the shared C++ takes minutes when turbo runs every suite at once on 2 cores

describe('RunControl', () => {
  it('exports the call-state layout the TypeScript side uses', () => {
    expect(probe.abi.callState).toEqual(CALL_STATE);
    expect(probe.cancelCall(2 ** 40, CALL_STATE.killed)).toBe(false); // no such control
  });

  it('without an immediate-exit byte, a kick lost before the blocking call is sent again until the run returns', () => {
    const result = probe.blockedRun({ withImmediateExit: false, timeoutMs: 5, spinMs: 50, blockMs: 10_000 });
    expect(result).toMatchObject({ skipped: false, interrupted: true, reason: CALL_STATE.timeout });
    // Re-kicked within a few of the watchdog's 1 ms ticks after the spin, not after 10 s.
    expect(result.elapsedMs).toBeLessThan(2_000);
  });

  it('without an immediate-exit byte, a cancel before the run is seen by interrupt_pending() and the run is skipped', () => {
    const result = probe.blockedRun({ withImmediateExit: false, timeoutMs: 0.001, spinMs: 0, blockMs: 0 });
    // The watchdog may or may not have fired by the check; when it has, nothing blocks.
    if (result.skipped) expect(result.reason).toBe(CALL_STATE.timeout);
    else expect(result.elapsedMs).toBeLessThan(2_000);
  });

  it('with an immediate-exit byte, a cancel sets it (for the hypervisor to read) and LeaveRun clears it', () => {
    const result = probe.blockedRun({ withImmediateExit: true, timeoutMs: 5, spinMs: 50, blockMs: 200 });
    expect(result).toMatchObject({ skipped: false, reason: CALL_STATE.timeout, immediateExitDuring: 1, immediateExitAfter: 0 });
  });
});
