/**
 * Whether a snapshot belongs to a sandbox: the same guest binary, memory
 * layout and memory-shaping configuration, a VM that can load its CPU state,
 * and host functions that cover the ones it was taken with.
 */
import { SnapshotMismatchError } from '../errors.js';
import type { ImageSegmentAccess, MemoryLayoutOptions } from '../mem/layout.js';
import type { FunctionSignature } from '../sandbox/host-functions.js';
import type { SnapshotState } from './snapshot-state.js';

/** What makes two sandboxes' memory interchangeable. */
export interface SandboxOrigin {
  /** SHA-256 of the guest ELF, lowercase hex (may be computed on first read). */
  readonly binaryDigest: string;
  readonly layout: MemoryLayoutOptions;
  readonly entryOffset: number;
  /** Link-time virtual address of the image start (`ElfImage.vaddrBase`); follows from the binary, so never compared. */
  readonly linkBase: bigint;
  readonly maxLogLevel: number;
  /** SHA-256 of the init data blob, lowercase hex. */
  readonly initDataDigest: string;
}

/** The layout options with only the fields the layout depends on, in a fixed order. @throws never */
export function normalizeLayoutOptions(options: MemoryLayoutOptions): MemoryLayoutOptions {
  const segment = (s: ImageSegmentAccess): ImageSegmentAccess => ({
    offset: s.offset, memSize: s.memSize, readable: s.readable, writable: s.writable, executable: s.executable,
  });
  return {
    imageSize: options.imageSize,
    imageSegments: options.imageSegments.map(segment),
    inputSize: options.inputSize,
    outputSize: options.outputSize,
    logSize: options.logSize,
    traceSize: options.traceSize,
    heapSize: options.heapSize,
    stackSize: options.stackSize,
    initDataSize: options.initDataSize,
  };
}

/**
 * Checks that `state` was taken from a sandbox with the same origin.
 * @throws SnapshotMismatchError (`binary`, `layout` or `configuration`) naming what differs.
 */
export function checkOrigin(state: SnapshotState, origin: SandboxOrigin): void {
  if (state.binaryDigest !== origin.binaryDigest) {
    throw new SnapshotMismatchError('binary', `the snapshot is of guest binary sha256:${short(state.binaryDigest)}, the sandbox runs sha256:${short(origin.binaryDigest)}`);
  }
  const ours = JSON.stringify(normalizeLayoutOptions(origin.layout));
  const theirs = JSON.stringify(normalizeLayoutOptions(state.layout));
  if (ours !== theirs || state.entryOffset !== origin.entryOffset) {
    throw new SnapshotMismatchError('layout', `the snapshot's memory layout ${describeLayout(state.layout)} differs from the sandbox's ${describeLayout(origin.layout)}`);
  }
  checkConfiguration(state, { maxLogLevel: origin.maxLogLevel, initDataDigest: origin.initDataDigest });
}

/**
 * Checks the memory-shaping options a caller gave explicitly against the snapshot.
 * @throws SnapshotMismatchError (`configuration`) naming the first option that differs.
 */
export function checkConfiguration(
  state: SnapshotState,
  given: { readonly maxLogLevel?: number; readonly initDataDigest?: string; readonly sizes?: Readonly<Record<string, number | undefined>> },
): void {
  for (const [option, value] of Object.entries(given.sizes ?? {})) {
    const recorded = (state.layout as unknown as Record<string, number>)[option];
    if (value !== undefined && value !== recorded) {
      throw new SnapshotMismatchError('configuration', `${option} is ${value} but the snapshot was taken with ${recorded}`);
    }
  }
  if (given.maxLogLevel !== undefined && given.maxLogLevel !== state.maxLogLevel) {
    throw new SnapshotMismatchError('configuration', `maxLogLevel is ${given.maxLogLevel} but the snapshot was taken with ${state.maxLogLevel} (the guest reads it from memory)`);
  }
  if (given.initDataDigest !== undefined && given.initDataDigest !== state.initDataDigest) {
    throw new SnapshotMismatchError('configuration', 'initData differs from the init data the snapshot was taken with');
  }
}

/**
 * Checks that `available` provides every host function of the snapshot with the same signature.
 * @throws SnapshotMismatchError (`host-functions`) listing what is missing or different.
 */
export function checkHostFunctions(state: SnapshotState, available: ReadonlyMap<string, FunctionSignature>): void {
  const problems: string[] = [];
  for (const recorded of state.hostFunctions) {
    const signature = available.get(recorded.name);
    if (!signature) problems.push(`"${recorded.name}" is not registered`);
    else if (describeSignature(signature) !== describeSignature(recorded)) {
      problems.push(`"${recorded.name}" is ${describeSignature(signature)}, the snapshot's is ${describeSignature(recorded)}`);
    }
  }
  if (problems.length > 0) {
    throw new SnapshotMismatchError('host-functions', `the guest may call host functions the snapshot was taken with: ${problems.join('; ')}`);
  }
}

/**
 * Checks that a VM of backend `backend` with XSAVE `xsaveEnabled` can load the snapshot's CPU state.
 * @throws SnapshotMismatchError (`backend` or `cpu`).
 */
export function checkVm(state: SnapshotState, backend: string, xsaveEnabled: boolean): void {
  if (state.backend !== backend) {
    throw new SnapshotMismatchError('backend', `the snapshot was taken with the ${state.backend} backend, the sandbox uses ${backend}`);
  }
  if (state.xsaveEnabled !== xsaveEnabled) {
    throw new SnapshotMismatchError('cpu', `the snapshot's vCPU ${state.xsaveEnabled ? 'had' : 'lacked'} XSAVE, this one ${xsaveEnabled ? 'has' : 'lacks'} it`);
  }
}

function describeSignature(signature: { readonly params: readonly string[]; readonly returns: string }): string {
  return `(${signature.params.join(', ')}) -> ${signature.returns}`;
}

function describeLayout(layout: MemoryLayoutOptions): string {
  const { heapSize, stackSize, inputSize, outputSize, logSize, traceSize, imageSize } = layout;
  return `{ imageSize ${imageSize}, heapSize ${heapSize}, stackSize ${stackSize}, inputSize ${inputSize}, outputSize ${outputSize}, logSize ${logSize}, traceSize ${traceSize} }`;
}

function short(digest: string): string {
  return digest.slice(0, 12);
}
