/** Where a benchmark ran: the figures mean little without it. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';

/** Set to `1` for a run inside tools/kvm-vm/run.sh (the bench sets it when it re-runs itself there). */
export const IN_KVM_VM_ENV = 'HYPERLIGHT_IN_KVM_VM';
/** The CPU model of the machine that launched the VM, passed in by the bench when it re-runs itself there. */
export const HOST_CPU_ENV = 'HYPERLIGHT_BENCH_HOST_CPU';

/** The machine and software a run measured. */
export interface Environment {
  /** Where the process ran: `bare-metal`, `virtualized` (inside a VM; for KVM figures, KVM with hardware nesting) or `kvm-vm` (tools/kvm-vm: QEMU TCG, software-emulated). */
  readonly kind: 'bare-metal' | 'virtualized' | 'kvm-vm';
  /** A sentence for the report header. */
  readonly description: string;
  /** `model name` from /proc/cpuinfo of the machine the benchmark process ran on. */
  readonly cpuModel: string;
  /** Inside tools/kvm-vm: the CPU of the machine running QEMU. */
  readonly hostCpuModel?: string;
  readonly cpuCount: number;
  /** DMI system vendor and product, when readable. */
  readonly system?: string;
  readonly node: string;
  readonly kernel: string;
  /** `git rev-parse --short HEAD`, when available. */
  readonly commit?: string;
  /** ISO timestamp of the run. */
  readonly date: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** `model name` of the first CPU in /proc/cpuinfo. */
export function cpuModel(): string {
  return /^model name\s*:\s*(.+)$/m.exec(read('/proc/cpuinfo') ?? '')?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Describes the machine this process runs on.
 * @param hypervisor - whether the figures come from KVM (the description then says what kind of KVM)
 */
export function detectEnvironment(hypervisor: boolean): Environment {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const underHypervisor = /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo);
  const vendor = read('/sys/class/dmi/id/sys_vendor');
  const product = read('/sys/class/dmi/id/product_name');
  const system = [vendor, product].filter(Boolean).join(' ') || undefined;
  const model = cpuModel();
  // tools/kvm-vm says so; without the variable, QEMU's DMI plus a TCG CPU model give it away.
  const kvmVm = process.env[IN_KVM_VM_ENV] === '1' || (/QEMU/.test(system ?? '') && /TCG/.test(model));
  const kind = kvmVm ? 'kvm-vm' : underHypervisor ? 'virtualized' : 'bare-metal';
  const hostCpuModel = process.env[HOST_CPU_ENV] || undefined;
  const inVm = `a virtual machine${system ? ` (${system})` : ''}`;
  const description = hypervisor
    ? {
        'kvm-vm': `nested KVM inside tools/kvm-vm (QEMU TCG, software-emulated AMD SVM; expect 20-100x hardware times)${hostCpuModel ? ` on ${hostCpuModel}` : ''}`,
        virtualized: `KVM inside ${inVm}`,
        'bare-metal': 'KVM on bare metal',
      }[kind]
    : `a normal process on ${kind === 'bare-metal' ? 'bare metal' : inVm}`;
  return {
    kind,
    description,
    cpuModel: model,
    ...(hostCpuModel ? { hostCpuModel } : {}),
    cpuCount: cpus().length,
    ...(system ? { system } : {}),
    node: process.version,
    kernel: release(),
    ...(gitCommit() ? { commit: gitCommit() } : {}),
    date: new Date().toISOString(),
  };
}
