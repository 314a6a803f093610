/** What this process holds: resident memory, file descriptors, mappings (Linux /proc). */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * This process's proportional set size in bytes: resident memory with each
 * shared page divided among the mappings that share it. Unlike RSS it does
 * not count a snapshot page once per sandbox mapping it.
 */
export function pssBytes(): number {
  const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/smaps_rollup', 'utf8'));
  if (!match) throw new Error('no Pss line in /proc/self/smaps_rollup');
  return Number(match[1]) * 1024;
}

/** Open file descriptors of this process. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/**
 * Mappings of this process that sandboxes own: guest memory and snapshot
 * memfds (`memfd:hyperlight-*`), snapshot files (`*.hlsnap`) and vCPU run
 * blocks (`anon_inode:kvm-vcpu*`). The JavaScript heap's own mappings come and
 * go with garbage collection, so counting every line would be noise.
 */
export function mappingCount(): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => /memfd:hyperlight-|\.hlsnap|anon_inode:kvm-vcpu/.test(line)).length;
}
