/**
 * A snapshot: an immutable image of a sandbox's guest memory plus the CPU
 * state and function tables that go with it. Sandboxes restore to it or start
 * from it, sharing its memory copy-on-write; it can be saved to disk.
 *
 *   live --dispose()--> disposed (every use throws SnapshotDisposedError)
 */
import type { Backend, BackendName, MemorySnapshot } from '../backend/backend.js';
import { discoverBackend } from '../backend/discover.js';
import { SnapshotDisposedError, SnapshotMismatchError } from '../errors.js';
import { readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';
import type { SnapshotState } from './snapshot-state.js';

/** Options for {@link Snapshot.load}. */
export interface SnapshotLoadOptions {
  /** The backend that maps the file and runs sandboxes made from it. Default: as for a sandbox (`HYPERLIGHT_BACKEND`, then auto-detection). */
  backend?: BackendName | Backend;
}

/** A sandbox's state at one moment. Take one with `sandbox.snapshot()` or `Snapshot.load()`. */
export class Snapshot implements Disposable {
  #memory: MemorySnapshot | undefined;
  readonly #state: SnapshotState;
  readonly #backend: Backend;

  /** @internal Use `sandbox.snapshot()` or {@link Snapshot.load}. */
  constructor(memory: MemorySnapshot, state: SnapshotState, backend: Backend) {
    this.#memory = memory;
    this.#state = state;
    this.#backend = backend;
  }

  /**
   * Loads a snapshot written by {@link save}. The file is checked completely
   * (format version, architecture, checksums) and its memory is then mapped,
   * not copied; it must not change while the snapshot or a sandbox made from
   * it exists.
   * @throws SnapshotFileError when the file cannot be read or is not a valid snapshot for this build.
   * @throws SnapshotMismatchError (`backend`) when the file was written with another backend.
   * @throws BackendUnavailableError when no hypervisor backend is usable.
   * @example
   * using snapshot = Snapshot.load('warm.hlsnap');
   * using sandbox = MultiUseSandbox.fromSnapshot(snapshot);
   */
  static load(path: string, options: SnapshotLoadOptions = {}): Snapshot {
    const backend = typeof options.backend === 'object' ? options.backend : discoverBackend({ choice: options.backend });
    const { state, memory } = readSnapshotFile(path, (file, offset, size) => backend.mapSnapshotFile(file, offset, size));
    if (state.backend !== backend.name) {
      memory.dispose();
      throw new SnapshotMismatchError('backend', `${path} was taken with the ${state.backend} backend; this process uses ${backend.name}`);
    }
    return new Snapshot(memory, state, backend);
  }

  /**
   * Writes the snapshot to `path` atomically: a failure never leaves a
   * partial file there. Pages that were never written take no disk space.
   * @throws SnapshotDisposedError after {@link dispose}.
   * @throws SnapshotFileError when the file cannot be written.
   * @example
   * sandbox.snapshot().save('warm.hlsnap');
   */
  save(path: string): void {
    const { memory, state } = this.use('save a snapshot');
    writeSnapshotFile(path, state, memory);
  }

  /** Bytes of guest memory the snapshot holds (its sandbox's memory size). @throws SnapshotDisposedError after {@link dispose}. */
  get memorySize(): number {
    return this.use('read the memory size of a snapshot').memory.size;
  }

  /** Whether {@link dispose} was called. @throws never */
  get disposed(): boolean {
    return this.#memory === undefined;
  }

  /**
   * Releases the snapshot's memory. Sandboxes made from it or restored to it
   * keep working: each holds its own reference. Idempotent.
   * @throws never
   */
  dispose(): void {
    const memory = this.#memory;
    this.#memory = undefined;
    memory?.dispose();
  }

  /** Same as {@link dispose}, for `using`. @throws never */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * @internal The parts a sandbox needs, for `action`.
   * @throws SnapshotDisposedError after {@link dispose}.
   */
  use(action: string): { readonly memory: MemorySnapshot; readonly state: SnapshotState; readonly backend: Backend } {
    if (this.#memory === undefined) throw new SnapshotDisposedError(action);
    return { memory: this.#memory, state: this.#state, backend: this.#backend };
  }
}

