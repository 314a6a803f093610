/**
 * The watchdog worker's entry (see `watchdog.ts`): keeps one deadline per VM
 * and, when it passes, cancels that call with `'timeout'` through the
 * process-wide registry, which stops the vCPU with
 * WHvCancelRunVirtualProcessor. It binds the DLLs itself: koffi objects do
 * not cross threads, the registry section and partition handles (integers) do.
 */
import { parentPort } from 'node:worker_threads';
import { CANCEL_REASON_CODES } from '@hyperlight-ts/core/backend';
import { CancelRegistry, openRegistryMemory } from './cancel-registry.js';
import { loadKoffiBinding } from './koffi-binding.js';
import type { WatchdogMessage } from './watchdog.js';
import { cancelAndAnnounce } from './whp-call-target.js';

const api = loadKoffiBinding();
const registry = new CancelRegistry(openRegistryMemory(api), (partition) => api.cancelRunVirtualProcessor(partition, 0));
const timers = new Map<number, NodeJS.Timeout>();
/** setTimeout fires at once for longer delays; such a limit then ends a little under 25 days early. */
const MAX_TIMER_MS = 0x7fff_ffff;

parentPort?.on('message', (message: WatchdogMessage) => {
  clearTimeout(timers.get(message.id));
  timers.delete(message.id);
  if (message.op !== 'arm') return;
  const { id, seq, timeoutMs } = message;
  timers.set(id, setTimeout(() => {
    timers.delete(id);
    cancelAndAnnounce(registry, id, CANCEL_REASON_CODES.timeout, seq);
  }, Math.min(timeoutMs, MAX_TIMER_MS)));
});
