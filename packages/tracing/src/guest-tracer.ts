/**
 * The collector applications create: a `GuestTracing` for the sandbox's
 * `tracing` option. It opens one session per sandbox and sends what the guest
 * records to callbacks, OpenTelemetry and trace files.
 */
import { ConfigurationError, type GuestTraceSession, type GuestTracing, type TraceSessionInfo } from '@hyperlight-ts/core';
import type { Tracer } from '@opentelemetry/api';

import { TscClock } from './clock/tsc-clock.js';
import { readUnixClock } from './clock/unix-clock.js';
import { hostInvariantTsc } from './invariant-tsc.js';
import { resolveTraceLimits, type TraceLimits } from './limits.js';
import { PACKAGE_NAME, PACKAGE_VERSION } from './package-version.js';
import { TraceSession, type TraceSessionHost } from './session.js';
import { CallbackSink, type TraceCallbacks } from './sinks/callback.js';
import { loadOpenTelemetry, type OpenTelemetryApi } from './sinks/load-opentelemetry.js';
import { OpenTelemetrySink } from './sinks/opentelemetry.js';
import { hex, TraceFileSink } from './sinks/trace-file-sink.js';
import type { TraceSink } from './sinks/trace-sink.js';
import { SpanTree } from './spans/span-tree.js';
import type { TraceRun, TraceSessionDetails } from './trace-data.js';
import { TraceCounters, type TraceStats } from './trace-stats.js';
import { DEFAULT_TRACER_SETTINGS, guestSettings, resolveTracerSettings, type GuestTracerSettings, type ResolvedTracerSettings } from './tracer-settings.js';

/** The warning code emitted (once per tracer) when a callback or sink throws. */
export const TRACE_CALLBACK_FAILED_WARNING = 'HYPERLIGHT_TRACE_CALLBACK_FAILED';

/** The placeholder a shared tracer's `file` path needs: replaced by each session's number. */
export const SANDBOX_PLACEHOLDER = '{sandbox}';

/** Options of a {@link GuestTracer}: what the guest records, and where it goes. */
export interface GuestTracerOptions extends GuestTracerSettings, TraceCallbacks {
  /** Receives each run, when it ends, as a tree of its spans and events (bounded by `limits`). */
  readonly onRun?: (run: TraceRun) => void;
  /**
   * OpenTelemetry: `'auto'` (default) uses `@opentelemetry/api` when it is
   * installed (spans go nowhere unless the application registered a tracer
   * provider), `false` never does, and a `Tracer` is used as given.
   */
  readonly openTelemetry?: 'auto' | false | Tracer;
  /**
   * Writes each sandbox's trace to this file (docs/tracing-format.md). A tracer
   * shared by several sandboxes needs `{sandbox}` in the path (replaced by the
   * session number, 1, 2, …); without it, a second sandbox is refused.
   */
  readonly file?: string;
  /** Size cap of each trace file in bytes (default 256 MiB); later lines are counted under `dropped.limit`. */
  readonly maxFileSize?: number;
  /** Memory bounds (see {@link TraceLimits}); unset ones keep their defaults. */
  readonly limits?: Partial<TraceLimits>;
}

/** A session's counts, with the session. */
export interface TraceSessionStats extends TraceStats {
  readonly session: TraceSessionDetails;
}

/** A tracer's counts: every session it opened, closed ones included, and each open one. */
export interface TracerStats extends TraceStats {
  /** Sessions not closed yet (their sandboxes are alive). */
  readonly sessions: readonly TraceSessionStats[];
}

const OPTION_KEYS = new Set<string>([
  'enabled', 'level', 'filter', 'runtimeSpans', 'memoryProfile', 'onSpan', 'onEvent', 'onMemory', 'onRun', 'openTelemetry', 'file', 'maxFileSize', 'limits',
]);
const SETTING_KEYS = new Set<string>(['enabled', 'level', 'filter', 'runtimeSpans', 'memoryProfile']);

/**
 * Collects guest traces from sandboxes created with it as their `tracing`
 * option. One tracer may serve many sandboxes (one session each); settings
 * changed with {@link GuestTracer.configure} apply from each sandbox's next run.
 * @example
 * const tracer = new GuestTracer({ level: 'info', filter: { 'my_guest::db': 'trace' }, onSpan: (s) => console.log(s.name, s.endNs - s.startNs) });
 * const u = UninitializedSandbox.create(GuestBinary.fromFile('guest.elf'), { tracing: tracer });
 * using sandbox = u.evolve();
 * sandbox.call('Work', 'i32');
 * tracer.configure({ level: 'debug' });
 * console.log(tracer.stats.spans, tracer.stats.dropped);
 */
export class GuestTracer implements GuestTracing {
  #settings: ResolvedTracerSettings;
  readonly #limits: TraceLimits;
  readonly #callbacks: TraceCallbacks;
  readonly #onRun: ((run: TraceRun) => void) | undefined;
  readonly #openTelemetry: { readonly api: OpenTelemetryApi; readonly tracer: Tracer | undefined } | undefined;
  readonly #file: string | undefined;
  readonly #maxFileSize: number | undefined;
  readonly #sessions = new Set<TraceSession>();
  readonly #closedTotals = new TraceCounters();
  #sessionCount = 0;
  #warned = false;

  /**
   * @param options - what to record and where to send it
   * @throws ConfigurationError for an unknown or invalid option, or a `Tracer` given while `@opentelemetry/api` cannot be loaded
   */
  constructor(options: GuestTracerOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new ConfigurationError('options', `expected an object, got ${String(options)}`);
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) throw new ConfigurationError(key, `unknown tracer option; known: ${[...OPTION_KEYS].join(', ')}`);
    }
    this.#settings = resolveTracerSettings(options, DEFAULT_TRACER_SETTINGS);
    this.#limits = resolveTraceLimits(options.limits);
    for (const name of ['onSpan', 'onEvent', 'onMemory', 'onRun'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new ConfigurationError(name, `expected a function, got ${typeof options[name]}`);
    }
    this.#callbacks = { onSpan: options.onSpan, onEvent: options.onEvent, onMemory: options.onMemory };
    this.#onRun = options.onRun;
    this.#openTelemetry = openTelemetryOption(options.openTelemetry);
    this.#file = fileOption(options.file);
    this.#maxFileSize = options.maxFileSize;
    if (this.#maxFileSize !== undefined && (!Number.isSafeInteger(this.#maxFileSize) || this.#maxFileSize <= 0)) {
      throw new ConfigurationError('maxFileSize', `expected a positive whole number of bytes, got ${String(this.#maxFileSize)}`);
    }
  }

  /** The settings the next run of every sandbox will use. */
  get settings(): ResolvedTracerSettings {
    return this.#settings;
  }

  /** The memory bounds in use. */
  get limits(): TraceLimits {
    return this.#limits;
  }

  /** Counts over every session so far, and per open session. */
  get stats(): TracerStats {
    const totals = new TraceCounters();
    totals.add(this.#closedTotals);
    const sessions: TraceSessionStats[] = [];
    for (const session of this.#sessions) {
      const stats = session.stats;
      totals.add(stats);
      sessions.push(Object.freeze({ ...stats, session: session.details }));
    }
    return Object.freeze({ ...totals.snapshot(), sessions: Object.freeze(sessions) });
  }

  /**
   * Changes what guests record, from each sandbox's next run (a run in
   * progress keeps the settings it started with).
   * @throws ConfigurationError for an unknown or invalid setting (nothing changes then)
   */
  configure(settings: GuestTracerSettings): void {
    if (typeof settings !== 'object' || settings === null) throw new ConfigurationError('settings', `expected an object, got ${String(settings)}`);
    for (const key of Object.keys(settings)) {
      if (!SETTING_KEYS.has(key)) throw new ConfigurationError(key, `not a setting configure() changes; these are: ${[...SETTING_KEYS].join(', ')}`);
    }
    this.#settings = resolveTracerSettings(settings, this.#settings);
  }

  /**
   * Opens a sandbox's session (core calls this when the sandbox is created).
   * @throws ConfigurationError when this tracer's `file` has no `{sandbox}` and a session is already open or was
   * @throws Error (Node system error) when the trace file cannot be created (with an estimated clock, the
   *   file is created later and a failure is counted in `callbackErrors` instead)
   */
  open(info: TraceSessionInfo): GuestTraceSession {
    const id = this.#sessionCount + 1;
    const file = this.#filePath(id);
    this.#sessionCount = id;
    const { hrtime, unixNano } = readUnixClock();
    const details: TraceSessionDetails = Object.freeze({ id, guestDigest: info.guestDigest, startTimeUnixNano: unixNano, file });
    const clock = new TscClock(hrtime, info.tscFrequencyHz);
    const invariantTsc = hostInvariantTsc();
    const counters = new TraceCounters();
    const sinks: TraceSink[] = [];
    if (this.#onRun !== undefined) sinks.push(new SpanTree(details, this.#limits, counters, this.#onRun));
    if (Object.values(this.#callbacks).some((callback) => callback !== undefined)) sinks.push(new CallbackSink(this.#callbacks));
    if (this.#openTelemetry !== undefined) {
      const { api, tracer } = this.#openTelemetry;
      sinks.push(new OpenTelemetrySink(api, tracer ?? api.trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION), details));
    }
    if (file !== undefined) {
      const header = (tscFrequencyHz: number) => ({
        guest: { sha256: info.guestDigest, imageBase: hex(info.imageBase), linkBase: hex(info.linkBase) },
        clock: { tscFrequencyHz, source: clock.source, invariantTsc },
        startTimeUnixNano: unixNano.toString(),
        createdBy: `${PACKAGE_NAME} ${PACKAGE_VERSION}`,
      });
      sinks.push(new TraceFileSink(file, header, clock, this.#maxFileSize, counters));
    }
    const session = new TraceSession(details, clock, this.#limits, sinks, counters, this.#host);
    this.#sessions.add(session);
    return session;
  }

  /** What sessions ask of their tracer. */
  readonly #host: TraceSessionHost = {
    runSettings: () => guestSettings(this.#settings),
    sinkFailed: (sink, error) => {
      if (this.#warned) return;
      this.#warned = true;
      process.emitWarning(
        `${PACKAGE_NAME}: the ${sink} threw (${describeThrown(error)}); tracing and the guest call go on, and later failures are counted in tracer.stats.callbackErrors`,
        { code: TRACE_CALLBACK_FAILED_WARNING },
      );
    },
    sessionClosed: (session, stats) => {
      this.#sessions.delete(session);
      this.#closedTotals.add(stats);
    },
  };

  /** Session `id`'s trace file, if any. */
  #filePath(id: number): string | undefined {
    const file = this.#file;
    if (file === undefined) return undefined;
    if (file.includes(SANDBOX_PLACEHOLDER)) return file.replaceAll(SANDBOX_PLACEHOLDER, String(id));
    if (id === 1) return file;
    throw new ConfigurationError(
      'file',
      `this tracer already wrote "${file}" for another sandbox; put ${SANDBOX_PLACEHOLDER} in the path (e.g. "trace-${SANDBOX_PLACEHOLDER}.jsonl") to give each sandbox its own file, or give each sandbox its own tracer`,
    );
  }
}

/** The `openTelemetry` option resolved: the API and the given tracer, or undefined for no OpenTelemetry. */
function openTelemetryOption(option: GuestTracerOptions['openTelemetry']): { readonly api: OpenTelemetryApi; readonly tracer: Tracer | undefined } | undefined {
  if (option === false) return undefined;
  if (option === undefined || option === 'auto') {
    const loaded = loadOpenTelemetry();
    return 'api' in loaded ? { api: loaded.api, tracer: undefined } : undefined;
  }
  if (typeof option !== 'object' || option === null || typeof option.startSpan !== 'function') {
    throw new ConfigurationError('openTelemetry', `expected 'auto', false or an OpenTelemetry Tracer, got ${String(option)}`);
  }
  const loaded = loadOpenTelemetry();
  if (!('api' in loaded)) {
    throw new ConfigurationError('openTelemetry', `a Tracer was given but @opentelemetry/api cannot be loaded (${describeThrown(loaded.error)})`, { cause: loaded.error });
  }
  return { api: loaded.api, tracer: option };
}

function fileOption(file: unknown): string | undefined {
  if (file === undefined) return undefined;
  if (typeof file !== 'string' || file === '') throw new ConfigurationError('file', `expected a file path, got ${String(file)}`);
  return file;
}

/** The message of whatever user code threw, without ever throwing itself. */
function describeThrown(value: unknown): string {
  try {
    return value instanceof Error ? value.message : String(value);
  } catch {
    return '<unprintable value>';
  }
}
