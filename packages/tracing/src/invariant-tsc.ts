/**
 * Whether the host's TSC ticks at one constant rate, also across sleep
 * states (an "invariant" TSC). Without it guest times can drift while a
 * sandbox runs. Linux lists the CPU's features in /proc/cpuinfo: the kernel
 * sets `constant_tsc` and `nonstop_tsc` for an invariant TSC.
 */
import { readFileSync } from 'node:fs';

/** The warning code emitted (once per process) when the TSC is not invariant. */
export const TSC_NOT_INVARIANT_WARNING = 'HYPERLIGHT_TSC_NOT_INVARIANT';

let cached: boolean | null | undefined;

/**
 * Whether `cpuinfo` (the text of /proc/cpuinfo) shows an invariant TSC; null
 * when it has no `flags` line to tell.
 */
export function invariantTscFromCpuinfo(cpuinfo: string): boolean | null {
  const line = /^flags\s*:(.*)$/m.exec(cpuinfo);
  if (line === null) return null;
  const flags = new Set(line[1]!.trim().split(/\s+/));
  return flags.has('constant_tsc') && flags.has('nonstop_tsc');
}

/**
 * Whether this host's TSC is invariant: true or false on Linux, null where
 * it cannot be told (other systems, unreadable /proc). The first time it is
 * false, emits one process warning with code {@link TSC_NOT_INVARIANT_WARNING}.
 */
export function hostInvariantTsc(): boolean | null {
  if (cached !== undefined) return cached;
  cached = process.platform === 'linux' ? readCpuinfo() : null;
  if (cached === false) {
    process.emitWarning(
      'the host CPU does not report an invariant TSC (constant_tsc and nonstop_tsc in /proc/cpuinfo); guest trace times may drift',
      { code: TSC_NOT_INVARIANT_WARNING },
    );
  }
  return cached;
}

/** The flags of /proc/cpuinfo, or null when it cannot be read. */
function readCpuinfo(): boolean | null {
  try {
    return invariantTscFromCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return null;
  }
}
