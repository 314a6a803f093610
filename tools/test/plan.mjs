// What `pnpm test` runs, decided from its options and whether /dev/kvm is usable, and what to do
// after each attempt to run the hypervisor suites in the nested-KVM VM. Pure: no I/O here.

/** Exit status of tools/kvm-vm/run.sh when the VM itself failed (it could not start, or died). */
export const VM_FAILED_STATUS = 125;

/** How many times the VM part is tried when the emulator stalls. */
export const VM_ATTEMPTS = 2;

/** Default limit on one VM attempt: the VM part took ~20 min here (2 cores, other jobs running); two such limits still fit CI's 90 min. */
export const DEFAULT_VM_TIMEOUT_S = 40 * 60;

/**
 * Default limit on a VM attempt's silence: a frozen emulator prints nothing, while the slowest
 * test file seen in the VM finishes (and so prints) within a few minutes.
 */
export const DEFAULT_VM_IDLE_S = 10 * 60;

/** The usage text of tools/test.mjs. */
export const USAGE = `usage: node tools/test.mjs [--no-vm | --vm-only]   (pnpm test, pnpm test:vm)

Runs every test suite. Host suites: turbo's test task in every package, and tools/test's own
tests. Hypervisor suites (*.kvm.test.ts, each package's test:hypervisor script):
  - /dev/kvm usable: they run on the host with HYPERLIGHT_REQUIRE_HYPERVISOR=1; a skip fails.
  - otherwise: they run in the nested-KVM VM of tools/kvm-vm after the host suites (slow); a
    skip there fails, and a VM that stalls twice or cannot start is "no verdict" and fails.

  --no-vm     (or HYPERLIGHT_TEST_VM=0) never start the VM: without /dev/kvm the hypervisor
              suites are skipped and the run says so; for machines that cannot run QEMU
  --vm-only   (pnpm test:vm) only the hypervisor suites in the VM, even where /dev/kvm works;
              it uses the current build (pnpm build first)

Environment:
  HYPERLIGHT_TEST_VM_TIMEOUT_S   limit on one VM attempt (default ${DEFAULT_VM_TIMEOUT_S})
  HYPERLIGHT_TEST_VM_IDLE_S      limit on a VM attempt without output (default ${DEFAULT_VM_IDLE_S})
  HYPERLIGHT_KVM_VM_LOCK         a file to hold with flock(1) around VM runs, when several
                                 checkouts share one machine
  HYPERLIGHT_TEST_SUMMARY_FILE   also write the final summary to this file

Exit status: 0 all passed; 1 a test or task failed (or was skipped where nothing may be);
2 no failure, but no verdict on the hypervisor suites (the VM stalled twice or could not start).`;

/**
 * Options of one run.
 * @typedef {object} Options
 * @property {'auto' | 'off' | 'only'} vm whether the VM may run (`auto`: when /dev/kvm is not usable)
 * @property {boolean} help print the usage and stop
 * @property {number} vmTimeoutMs limit on one VM attempt
 * @property {number} vmIdleMs limit on one VM attempt without output
 * @property {string | undefined} lockPath file to flock around VM runs
 * @property {string | undefined} summaryFile where to write the final summary too
 */

/**
 * Reads the options from the command line and the environment.
 * @param {readonly string[]} args command-line arguments after the script
 * @param {Readonly<Record<string, string | undefined>>} env
 * @returns {Options}
 * @throws {Error} on an unknown argument, on --no-vm with --vm-only, or on a bad number
 */
export function parseOptions(args, env) {
  const known = new Set(['--no-vm', '--vm-only', '--help', '-h', '--']);
  const unknown = args.find((arg) => !known.has(arg));
  if (unknown !== undefined) throw new Error(`unknown argument ${JSON.stringify(unknown)}\n\n${USAGE}`);
  const vmOnly = args.includes('--vm-only');
  const noVm = args.includes('--no-vm') || env.HYPERLIGHT_TEST_VM === '0';
  if (vmOnly && noVm) throw new Error('--vm-only contradicts --no-vm (or HYPERLIGHT_TEST_VM=0): nothing would run');
  const vm = vmOnly ? 'only' : noVm ? 'off' : 'auto';
  const help = args.includes('--help') || args.includes('-h');
  return {
    vm,
    help,
    vmTimeoutMs: seconds(env, 'HYPERLIGHT_TEST_VM_TIMEOUT_S', DEFAULT_VM_TIMEOUT_S) * 1000,
    vmIdleMs: seconds(env, 'HYPERLIGHT_TEST_VM_IDLE_S', DEFAULT_VM_IDLE_S) * 1000,
    lockPath: env.HYPERLIGHT_KVM_VM_LOCK || undefined,
    summaryFile: env.HYPERLIGHT_TEST_SUMMARY_FILE || undefined,
  };
}

/**
 * What one run does.
 * @typedef {object} Plan
 * @property {boolean} host run the host suites
 * @property {boolean} requireHypervisor the host suites run with HYPERLIGHT_REQUIRE_HYPERVISOR=1
 *   (KVM is usable: every hypervisor test must run, and a skip fails)
 * @property {'run' | 'not-needed' | 'off'} vm the VM part: run it, not needed (KVM is usable
 *   here), or turned off by --no-vm / HYPERLIGHT_TEST_VM=0 although it was needed
 * @property {string} notice what the run will do about the hypervisor suites, printed first
 */

/**
 * Decides what to run.
 * @param {Pick<Options, 'vm'>} options
 * @param {{ usable: boolean, detail: string }} kvm from kvm-status.mjs
 * @returns {Plan}
 */
export function planRun(options, kvm) {
  if (options.vm === 'only') {
    return { host: false, requireHypervisor: false, vm: 'run', notice: `--vm-only: running the hypervisor suites in the nested-KVM VM (tools/kvm-vm) only (/dev/kvm here: ${kvm.usable ? 'usable' : 'not usable'})` };
  }
  if (kvm.usable) {
    return { host: true, requireHypervisor: true, vm: 'not-needed', notice: `/dev/kvm is usable (${kvm.detail}): every suite runs here with HYPERLIGHT_REQUIRE_HYPERVISOR=1; a skipped test fails the run` };
  }
  if (options.vm === 'off') {
    return { host: true, requireHypervisor: false, vm: 'off', notice: `no usable /dev/kvm (${kvm.detail}) and the VM is turned off (--no-vm or HYPERLIGHT_TEST_VM=0): the hypervisor suites will be SKIPPED, not run` };
  }
  return { host: true, requireHypervisor: false, vm: 'run', notice: `no usable /dev/kvm (${kvm.detail}): running the hypervisor suites in the nested-KVM VM (tools/kvm-vm) after the host suites; slow (the CPU is emulated), and on the host they are skipped` };
}

/**
 * How one VM attempt ended.
 * @typedef {{ kind: 'exited', status: number } | { kind: 'stalled', reason: string }} VmAttempt
 */

/**
 * What to do after the VM attempts so far.
 * @typedef {{ action: 'retry', message: string } | { action: 'done', status: number } | { action: 'no-verdict', message: string }} VmNextStep
 */

/**
 * Decides, after each VM attempt, whether to retry, and whether the suites gave a verdict.
 * A stall (no output, or over time) is the emulator's fault, not a test's: it is retried once.
 * A VM that cannot start (run.sh's 125) will not start on a retry either.
 * @param {readonly VmAttempt[]} attempts every attempt so far, oldest first (at least one)
 * @returns {VmNextStep}
 */
export function nextVmStep(attempts) {
  const last = attempts.at(-1);
  if (last.kind === 'exited') {
    if (last.status === VM_FAILED_STATUS) {
      return { action: 'no-verdict', message: 'the nested-KVM VM could not start or died (tools/kvm-vm/run.sh exited with 125; its message is above)' };
    }
    return { action: 'done', status: last.status };
  }
  if (attempts.length < VM_ATTEMPTS) {
    return { action: 'retry', message: `the nested-KVM VM stalled (${last.reason}); the emulator sometimes freezes for good: retrying once` };
  }
  return { action: 'no-verdict', message: `the nested-KVM VM stalled ${attempts.length} times (${attempts.map((a) => a.reason).join('; ')})` };
}

function seconds(env, name, fallback) {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of seconds, not ${JSON.stringify(text)}`);
  return value;
}
