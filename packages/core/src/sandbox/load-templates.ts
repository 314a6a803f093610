/**
 * Loaded-memory templates. Before its first run, a sandbox's memory is a
 * pure function of the guest binary, the memory layout, the log level and the
 * backend: page tables, GDT/IDT/TSS, PEB, the relocated image. The first
 * sandbox of such a combination keeps a copy of that memory (the backend's
 * `snapshotMemory()`); later ones map it copy-on-write instead of building
 * it again, so they skip the ELF load and the system structures, and share
 * the image's pages until they write them.
 */
import type { Backend, MemorySnapshot, VirtualMachine } from '../backend/backend.js';
import type { MemoryLayoutOptions } from '../mem/layout.js';
import type { GuestBinary } from './guest-binary.js';

/** Templates kept per guest binary (one per layout and log level, for one backend each), oldest dropped first. */
const PER_BINARY = 4;

/** A kept template and the backend whose VMs can map it. */
interface Template {
  readonly backend: Backend;
  readonly memory: MemorySnapshot;
}

const templates = new WeakMap<GuestBinary, Map<string, Template>>();

/** What, besides the binary, decides a new sandbox's memory. */
export interface TemplateKey {
  /** Normalised layout options (as snapshots record them). */
  readonly layout: MemoryLayoutOptions;
  readonly maxLogLevel: number;
  readonly backend: Backend;
  /** Init data is copied into memory too; sandboxes with init data are not templated. */
  readonly initDataSize: number;
}

function keyOf(key: TemplateKey): string | undefined {
  if (key.initDataSize > 0) return undefined;
  return `${key.maxLogLevel}/${JSON.stringify(key.layout)}`;
}

/** The template for `binary` and `key`, if one was kept. */
export function findTemplate(binary: GuestBinary, key: TemplateKey): MemorySnapshot | undefined {
  const id = keyOf(key);
  const template = id === undefined ? undefined : templates.get(binary)?.get(id);
  return template?.backend === key.backend ? template.memory : undefined;
}

/**
 * Keeps the memory `vm` holds now (just loaded, never run) as the template
 * for `binary` and `key`. A backend that cannot copy memory is simply not
 * templated. `vm` goes on copy-on-write over the copy.
 * @throws never
 */
export function keepTemplate(binary: GuestBinary, key: TemplateKey, vm: VirtualMachine): void {
  const id = keyOf(key);
  if (id === undefined) return;
  let memory: MemorySnapshot;
  try {
    memory = vm.snapshotMemory();
  } catch {
    return;
  }
  let kept = templates.get(binary);
  if (!kept) templates.set(binary, (kept = new Map()));
  // Sandboxes made from a template hold their own share of its memory.
  kept.get(id)?.memory.dispose();
  kept.delete(id);
  kept.set(id, { backend: key.backend, memory });
  for (const [oldest, template] of kept) {
    if (kept.size <= PER_BINARY) break;
    template.memory.dispose();
    kept.delete(oldest);
  }
}
