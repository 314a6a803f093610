/**
 * A sandbox's side of its trace session: it calls the collector's
 * {@link GuestTraceSession} and reports what the session throws as a
 * `HostCallbackError` (a bug in the collector, never the guest's doing), and
 * encodes the run settings for the trace area's header.
 */
import { HostCallbackError } from '../errors.js';
import { encodeTraceHeader, TraceAreaDrain } from '../protocol/trace-area.js';
import type { GuestTraceSession, GuestTracing, TraceRunInfo, TraceRunSettings, TraceSessionInfo } from './guest-tracing.js';
import { describeThrown } from './safe-text.js';

/** One sandbox's open trace session. */
export class TraceSessionGuard {
  /** The settings {@link header} encodes. */
  #settings: TraceRunSettings | undefined;
  #header: Uint8Array | undefined;
  /** {@link beginRun} succeeded and {@link endRun} has not been called since. */
  #runOpen = false;
  /** {@link close} was called; with a run open, {@link endRun} closes. */
  #closing = false;
  /** The drain of the area {@link drain} was last given (a sandbox's area never changes). */
  #drain: TraceAreaDrain | undefined;
  #drainArea: Uint8Array | undefined;

  private constructor(private readonly session: GuestTraceSession) {}

  /**
   * Opens a session of `tracing` for one sandbox.
   * @throws HostCallbackError when `open` throws or returns no session.
   */
  static open(tracing: GuestTracing, info: TraceSessionInfo): TraceSessionGuard {
    const session = call('open', () => tracing.open(info));
    const methods = ['beginRun', 'records', 'endRun', 'close'] as const;
    if (typeof session !== 'object' || session === null || methods.some((m) => typeof session[m] !== 'function')) {
      throw new HostCallbackError('tracing', `open() must return a session with ${methods.join(', ')} methods`);
    }
    return new TraceSessionGuard(session);
  }

  /**
   * Tells the session a run starts now and returns the trace-area header its
   * settings make. The same settings object is encoded (and checked) once.
   * @throws HostCallbackError when `beginRun` throws; ConfigurationError when its settings do not fit the header.
   */
  beginRun(operation: TraceRunInfo['operation'], functionName: string | undefined): Uint8Array {
    const settings = call('beginRun', () => this.session.beginRun({ operation, functionName, hostTimeNs: process.hrtime.bigint() }));
    if (this.#header === undefined || settings !== this.#settings) {
      this.#header = encodeTraceHeader(settings);
      this.#settings = settings;
    }
    this.#runOpen = true;
    return this.#header;
  }

  /**
   * Drains `area` and hands what it held to the session.
   * @throws HostCallbackError when `records` throws (the area is drained regardless).
   */
  drain(area: Uint8Array): void {
    if (area !== this.#drainArea) {
      this.#drain = new TraceAreaDrain(area);
      this.#drainArea = area;
    }
    const drained = this.#drain!.drain();
    if (drained !== undefined) call('records', () => this.session.records(drained.records, drained.lost, process.hrtime.bigint()));
  }

  /**
   * Ends the run {@link beginRun} began, and closes the session when
   * {@link close} came meanwhile; does nothing when no run is open.
   * @param error - the error the call throws, if any
   * @throws HostCallbackError when `endRun` (or then `close`) throws; the first failure.
   */
  endRun(error: Error | undefined): void {
    if (!this.#runOpen) return;
    this.#runOpen = false;
    let failure: unknown;
    try {
      call('endRun', () => this.session.endRun(process.hrtime.bigint(), error));
    } catch (thrown) {
      failure = thrown;
    }
    if (this.#closing) {
      try {
        this.close();
      } catch (thrown) {
        failure ??= thrown;
      }
    }
    if (failure !== undefined) throw failure;
  }

  /**
   * Closes the session; with a run open, once {@link endRun} has ended it
   * (a disposed sandbox's last call still ends its run first).
   * @throws HostCallbackError when `close` throws.
   */
  close(): void {
    this.#closing = true;
    if (!this.#runOpen) call('close', () => this.session.close());
  }
}

/** Calls session method `method`, turning what it throws into a HostCallbackError. */
function call<T>(method: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new HostCallbackError('tracing', `${method}() threw: ${describeThrown(error)}`, { cause: error });
  }
}
