/**
 * The seam between a sandbox and a guest-trace collector (such as
 * `@hyperlight-ts/tracing`). Core moves bytes: it writes the collector's
 * settings into the trace area before each run and hands over the records it
 * drains on every exit; decoding, timing and delivery are the collector's.
 * docs/tracing-format.md describes the area and its records.
 */
import type { LogLevel } from '../protocol/codec.js';

/** What a sandbox tells a collector about itself when tracing starts. */
export interface TraceSessionInfo {
  /** Hex SHA-256 of the guest binary: its identity for symbolization. */
  readonly guestDigest: string;
  /** Guest virtual address the image was loaded at. */
  readonly imageBase: number;
  /** Lowest virtual address of the ELF's loadable segments (the image's link-time base). */
  readonly linkBase: number;
  /** The guest's TSC frequency in Hz, when the backend knows it; otherwise the collector estimates it. */
  readonly tscFrequencyHz: number | undefined;
  /** Size in bytes of the trace area. */
  readonly traceAreaSize: number;
}

/** One run of the guest: its initialisation or one call. */
export interface TraceRunInfo {
  readonly operation: 'init' | 'call';
  /** The guest function called; undefined for `init`. */
  readonly functionName: string | undefined;
  /** `process.hrtime.bigint()` just before the vCPU is entered. */
  readonly hostTimeNs: bigint;
}

/** One entry of a target filter: targets starting with `prefix` are recorded from `level` up. */
export interface TraceFilterEntry {
  /** UTF-8 prefix of a target, at most 255 bytes. */
  readonly prefix: string;
  readonly level: LogLevel;
}

/** The settings the guest reads when a run starts (the trace area's header). */
export interface TraceRunSettings {
  /** Record spans and events at all; false leaves only the one-branch check in the guest. */
  readonly enabled: boolean;
  /** Least severe level recorded where no filter entry matches (`LogLevel.Off` records nothing). */
  readonly level: LogLevel;
  /** Per-target levels; the longest matching prefix wins. */
  readonly filter: readonly TraceFilterEntry[];
  /** The guest runtime records its own work (dispatch, host calls). */
  readonly runtimeSpans: boolean;
  /** The guest allocator records allocations and frees with stack traces. */
  readonly memoryProfile: boolean;
  /** W3C traceparent of the host span around this run, for the guest to propagate. */
  readonly traceparent: string | undefined;
}

/**
 * One sandbox's trace session. Core calls it only from the thread that owns
 * the sandbox, and never re-entrantly; a method that throws is a bug in the
 * collector, and core reports it as a `HostCallbackError` without poisoning
 * the sandbox.
 */
export interface GuestTraceSession {
  /**
   * A run is about to start; returns what to write into the trace area's
   * header. Core checks and encodes a settings object once and reuses that
   * when the same object comes back, so return a new object to change them.
   * Settings that do not fit the header fail the call with `ConfigurationError`.
   */
  beginRun(run: TraceRunInfo): TraceRunSettings;
  /**
   * Records drained at one exit: `bytes` holds whole records as the guest
   * wrote them, unvalidated; it is a view of guest memory, valid only until
   * this method returns (the guest writes there again when it resumes), so
   * decode it now or copy what you keep. `lost` is the guest's own drop count
   * since the previous drain.
   */
  records(bytes: Uint8Array, lost: number, hostTimeNs: bigint): void;
  /** The run ended (halt, error or cancel); `error` is the error the call throws. */
  endRun(hostTimeNs: bigint, error: Error | undefined): void;
  /** The sandbox was disposed: flush and release everything. */
  close(): void;
}

/**
 * The value of the `tracing` sandbox option: opens one session per sandbox
 * (calibration and span state are per sandbox).
 */
export interface GuestTracing {
  open(info: TraceSessionInfo): GuestTraceSession;
}
