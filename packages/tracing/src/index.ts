/**
 * @hyperlight-ts/tracing — collect guest traces from hyperlight-ts sandboxes:
 * spans, events and memory profiles, delivered to callbacks, OpenTelemetry or
 * a trace file (docs/tracing.md).
 *
 * @example
 * import { GuestTracer } from '@hyperlight-ts/tracing';
 * const tracer = new GuestTracer({ level: 'debug', file: 'trace-{sandbox}.jsonl', onSpan: (span) => console.log(span.name) });
 * const u = UninitializedSandbox.create(GuestBinary.fromFile('guest.elf'), { tracing: tracer });
 */
export {
  GuestTracer, SANDBOX_PLACEHOLDER, TRACE_CALLBACK_FAILED_WARNING,
  type GuestTracerOptions, type TracerStats, type TraceSessionStats,
} from './guest-tracer.js';
export { DEFAULT_TRACER_SETTINGS, type GuestTracerSettings, type ResolvedTracerSettings } from './tracer-settings.js';
export type { TraceLevelOption } from './levels.js';
export { DEFAULT_TRACE_LIMITS, type TraceLimits } from './limits.js';
export type { TraceCallbacks } from './sinks/callback.js';
export { OTEL_ATTRIBUTES } from './sinks/opentelemetry.js';
export type { TraceEvent, TraceMemoryEvent, TraceRun, TraceSessionDetails, TraceSpan, TraceSpanNode } from './trace-data.js';
export type { TraceDropReason, TraceStats } from './trace-stats.js';
export type { TscClockSource } from './clock/tsc-clock.js';
export { TSC_NOT_INVARIANT_WARNING } from './invariant-tsc.js';
export * from './file/index.js';
