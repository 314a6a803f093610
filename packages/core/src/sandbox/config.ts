/**
 * Sandbox configuration: what a user may set, the defaults, and validation.
 * Range checks that depend on the memory map live in `mem/layout.ts`; this
 * file checks types and fills defaults.
 */
import type { Backend, BackendName } from '../backend/backend.js';
import { ConfigurationError } from '../errors.js';
import { LogLevel } from '../protocol/codec.js';
import type { GuestClock } from './guest-clock.js';
import type { GuestTracing } from './guest-tracing.js';
import { consoleLogger, parseLogLevel, type GuestLogger, type LogLevelName } from './logging.js';
import { neutraliseControls } from './safe-text.js';

/** Receives text the guest prints (Rust `print!`, C `printf`). */
export type PrintFunction = (text: string) => void;

/** Options for {@link UninitializedSandbox.create}. Every size is in bytes. */
export interface SandboxConfiguration {
  /** Guest heap. Default 1 MiB. */
  heapSize?: number;
  /** Guest stack (a guard page below it catches overflow). Default 256 KiB. */
  stackSize?: number;
  /** Host-to-guest message buffer: bounds the size of call arguments. Default 64 KiB. */
  inputSize?: number;
  /** Guest-to-host message buffer: bounds the size of return values and host-call arguments. Default 64 KiB. */
  outputSize?: number;
  /** Area where the guest batches log records between exits. Default 16 KiB. */
  logSize?: number;
  /**
   * Area where the guest batches trace records between exits
   * (docs/tracing-format.md); at least 4 KiB. Every sandbox has one, traced
   * or not, so snapshots work either way; pages an untraced guest never
   * touches cost nothing. A larger area means fewer `TRACE_FLUSH` exits.
   * Default 64 KiB.
   */
  traceSize?: number;
  /**
   * The most guest memory the sandbox may have, in bytes: the guest binary's
   * image (which the binary itself sizes, `.bss` included) plus every area
   * above. A guest that would need more fails to load with a
   * `ConfigurationError` naming this option. Memory the guest never touches
   * costs nothing, so this bounds what a guest can make the host commit.
   * Default {@link DEFAULT_MAX_MEMORY_SIZE} (256 MiB); at most 1 GiB.
   */
  maxMemorySize?: number;
  /**
   * Where guest prints go, as the exact text the guest printed. Default: the
   * host's standard output, with terminal control characters other than tab
   * and newline shown as escapes (`\x1b`), so a guest cannot drive the
   * terminal. If it throws,
   * the guest still runs to the end and the call then fails with
   * `HostCallbackError`.
   */
  print?: PrintFunction;
  /**
   * Receives guest log records (the guest's `log` macros, `HL_LOG`). It
   * may throw, with the same effect as a throwing `print`. Default: none,
   * or {@link consoleLogger} when only `maxLogLevel` is set.
   */
  logger?: GuestLogger;
  /**
   * Most verbose level delivered; the guest does not even record less severe
   * messages. Default: `'info'` with a `logger`, `'off'` without one (quiet).
   */
  maxLogLevel?: LogLevel | LogLevelName;
  /**
   * Bytes handed to the guest at creation (copied), readable by guest code
   * (Rust `init_data()`, C `hl_init_data()`) and mapped read-only. Default: none.
   */
  initData?: Uint8Array;
  /**
   * Longest a guest may run, in milliseconds, for every guest run of the
   * sandbox: initialisation in `evolve()` and each call. A guest that runs
   * longer is stopped and the call throws `GuestTimeoutError` (the sandbox is
   * then poisoned). Time spent in host functions counts. Default: no limit.
   */
  timeoutMs?: number;
  /**
   * Hypervisor backend: a name, a backend object, or undefined to use
   * `HYPERLIGHT_BACKEND` or auto-detection.
   */
  backend?: BackendName | Backend;
  /**
   * Guest tracing: a collector (such as `@hyperlight-ts/tracing`) that opens
   * one session per sandbox and receives the spans, events and allocations the
   * guest records (docs/tracing-format.md). A session method that throws makes
   * the call fail with `HostCallbackError` without poisoning the sandbox.
   * Default: none (the guest records nothing and core adds no work).
   */
  tracing?: GuestTracing;
  /**
   * Answers the guest's clock reads (Rust `hyperlight_guest::clock`, C
   * `time()`, `clock()`, `clock_gettime()`): a function of the clock's name
   * that returns nanoseconds, for instance a frozen clock for reproducible
   * runs or a coarse one against timing side channels ({@link GuestClock}).
   * Calls whose guest reads no clock never run it. Default: the real clocks —
   * `realtime` from the host's wall clock, `monotonic` from the sandbox's
   * creation, `cpu` the time the sandbox's guest runs have taken since the
   * guest first read it (docs/configuration.md).
   */
  clock?: GuestClock;
}

/** A configuration with every default filled in. */
export interface ResolvedConfiguration {
  readonly heapSize: number;
  readonly stackSize: number;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly logSize: number;
  readonly traceSize: number;
  readonly print: PrintFunction;
  /** Undefined exactly when `maxLogLevel` is `Off`. */
  readonly logger: GuestLogger | undefined;
  readonly maxLogLevel: LogLevel;
  /** A private copy; empty when there is none. */
  readonly initData: Uint8Array;
  readonly backend: BackendName | Backend | undefined;
  /** Undefined for no limit. */
  readonly timeoutMs: number | undefined;
  readonly maxMemorySize: number;
  /** Undefined when the sandbox is not traced. */
  readonly tracing: GuestTracing | undefined;
  /** Undefined for the real clocks. */
  readonly clock: GuestClock | undefined;
}

/** The largest `maxMemorySize` accepted: the 1 GiB guest address space. */
const MAX_MEMORY_SIZE_LIMIT = 1024 * 1024 * 1024;

/** Default of the `maxMemorySize` option, in bytes: 256 MiB. */
export const DEFAULT_MAX_MEMORY_SIZE = 256 * 1024 * 1024;

/** The longest time limit accepted, in milliseconds (as `setTimeout`'s): about 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Checks a time limit in milliseconds; undefined means none.
 * @throws ConfigurationError naming `option` unless `value` is undefined or a number in (0, {@link MAX_TIMEOUT_MS}].
 */
export function parseTimeoutMs(value: unknown, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMEOUT_MS) {
    throw new ConfigurationError(option, `expected a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], got ${String(value)}`);
  }
  return value;
}

const KIB = 1024;

/** Default sizes in bytes. */
export const DEFAULT_CONFIGURATION = {
  heapSize: 1024 * KIB,
  stackSize: 256 * KIB,
  inputSize: 64 * KIB,
  outputSize: 64 * KIB,
  logSize: 16 * KIB,
  traceSize: 64 * KIB,
} as const;

const SIZE_OPTIONS = Object.keys(DEFAULT_CONFIGURATION) as (keyof typeof DEFAULT_CONFIGURATION)[];
const KNOWN_OPTIONS = new Set<string>([...SIZE_OPTIONS, 'print', 'logger', 'maxLogLevel', 'initData', 'backend', 'timeoutMs', 'maxMemorySize', 'tracing', 'clock']);

/** Writes guest text to standard output with terminal control characters made visible. */
const defaultPrint: PrintFunction = (text) => {
  process.stdout.write(neutraliseControls(text));
};

/**
 * Fills defaults and checks option types.
 * @throws ConfigurationError for an unknown option or a value of the wrong type.
 */
export function resolveConfiguration(config: SandboxConfiguration = {}): ResolvedConfiguration {
  if (typeof config !== 'object' || config === null) {
    throw new ConfigurationError('config', `expected an object, got ${config === null ? 'null' : typeof config}`);
  }
  for (const key of Object.keys(config)) {
    if (!KNOWN_OPTIONS.has(key)) throw new ConfigurationError(key, `unknown option (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  const sizes = {} as Record<(typeof SIZE_OPTIONS)[number], number>;
  for (const option of SIZE_OPTIONS) {
    const value: unknown = config[option] ?? DEFAULT_CONFIGURATION[option];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ConfigurationError(option, `expected a positive whole number of bytes, got ${String(value)}`);
    }
    sizes[option] = value;
  }
  if (config.print !== undefined && typeof config.print !== 'function') {
    throw new ConfigurationError('print', `expected a function, got ${typeof config.print}`);
  }
  if (config.logger !== undefined && typeof config.logger !== 'function') {
    throw new ConfigurationError('logger', `expected a function, got ${typeof config.logger}`);
  }
  const defaultLevel = config.logger === undefined ? LogLevel.Off : LogLevel.Info;
  const maxLogLevel = config.maxLogLevel === undefined ? defaultLevel : parseLogLevel(config.maxLogLevel, 'maxLogLevel');
  const logger = maxLogLevel === LogLevel.Off ? undefined : (config.logger ?? consoleLogger);
  if (config.initData !== undefined && !(config.initData instanceof Uint8Array)) {
    throw new ConfigurationError('initData', `expected a Uint8Array (or Buffer), got ${typeof config.initData}`);
  }
  const initData = config.initData ? new Uint8Array(config.initData) : new Uint8Array();
  const { backend } = config;
  if (backend !== undefined && typeof backend !== 'string' && (typeof backend !== 'object' || backend === null || typeof backend.createVm !== 'function')) {
    throw new ConfigurationError('backend', 'expected "kvm", "mshv", "whp" or a backend object');
  }
  const timeoutMs = parseTimeoutMs(config.timeoutMs, 'timeoutMs');
  const maxMemorySize: unknown = config.maxMemorySize ?? DEFAULT_MAX_MEMORY_SIZE;
  if (typeof maxMemorySize !== 'number' || !Number.isSafeInteger(maxMemorySize) || maxMemorySize <= 0 || maxMemorySize > MAX_MEMORY_SIZE_LIMIT) {
    throw new ConfigurationError('maxMemorySize', `expected a whole number of bytes from 1 to ${MAX_MEMORY_SIZE_LIMIT}, got ${String(maxMemorySize)}`);
  }
  const { tracing } = config;
  if (tracing !== undefined && (typeof tracing !== 'object' || tracing === null || typeof tracing.open !== 'function')) {
    throw new ConfigurationError('tracing', 'expected an object with an open() method (a guest-trace collector)');
  }
  const { clock } = config;
  if (clock !== undefined && typeof clock !== 'function') {
    throw new ConfigurationError('clock', `expected a function (clock, readDefault) => nanoseconds, got ${clock === null ? 'null' : typeof clock}`);
  }
  return { ...sizes, print: config.print ?? defaultPrint, logger, maxLogLevel, initData, backend, timeoutMs, maxMemorySize, tracing, clock };
}
