// An optional lock around VM runs, for machines where several checkouts share the nested-KVM VM
// (HYPERLIGHT_KVM_VM_LOCK). flock(1) holds it: the lock lives as long as its `cat`, which ends
// when this process closes its stdin, by release() or by dying.
import { spawn } from 'node:child_process';

/** After this long without the lock, say that the run is waiting for it. */
const WAIT_NOTICE_MS = 2000;

/**
 * Takes the lock on `path` (an exclusive flock), waiting as long as another run holds it.
 * @param {string} path the lock file (created when missing)
 * @returns {Promise<() => Promise<void>>} resolves to release(), once the lock is held
 * @throws {Error} (as a rejection) when flock(1) cannot run or cannot take the lock
 */
export function acquireVmLock(path) {
  return new Promise((resolve, reject) => {
    const holder = spawn('flock', [path, 'sh', '-c', 'echo locked && exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const notice = setTimeout(() => process.stdout.write(`waiting for the KVM VM lock ${path} (another run holds it)…\n`), WAIT_NOTICE_MS);
    const exited = new Promise((done) => holder.on('close', done));
    holder.on('error', (error) => {
      clearTimeout(notice);
      reject(new Error(`cannot run flock(1) for HYPERLIGHT_KVM_VM_LOCK=${path}: ${error.message}`));
    });
    holder.on('close', (status) => {
      clearTimeout(notice);
      reject(new Error(`flock(1) could not take ${path} (exit status ${status})`));
    });
    holder.stdout.once('data', () => {
      clearTimeout(notice);
      resolve(async () => {
        holder.stdin.end();
        await exited;
      });
    });
  });
}
