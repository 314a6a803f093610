/**
 * @file hyperlight/trace.h
 * Guest tracing: spans, events and typed fields recorded into the PEB's
 * trace area for the host's trace collector (docs/tracing-format.md).
 *
 * Two layers:
 *
 * - The `hl_trace_*` functions are always in the library. The host decides
 *   per run what is recorded (enabled or not, a level, per-target levels,
 *   runtime spans, memory profiling); when it records nothing, every function
 *   returns after one compare of one byte.
 * - The `HL_SPAN` / `HL_EVENT` / ... macros compile to nothing, arguments
 *   not evaluated, unless the guest is built with `HL_TRACE` defined
 *   (`-DHL_TRACE`, or `defines: { HL_TRACE: true }` in buildCGuest). With
 *   `HL_TRACE` they cost one branch when the host records nothing.
 *
 * Targets: the macros use `HL_TRACE_TARGET`, which a source file may define
 * before including this header (default: `HL_LOG_TARGET`, i.e. "guest").
 * Strings (names, targets, keys, values) must be UTF-8 (one that is not is
 * kept up to its first invalid byte); the runtime cuts ones over the record
 * limits at a character boundary, and leaves out fields that no longer fit a
 * record. The records are the Rust runtime's: C and Rust guests trace alike.
 *
 * @example
 * ```c
 * #define HL_TRACE_TARGET "myguest"
 * #include <hyperlight/trace.h>
 *
 * static hl_result work(const hl_call *call) {
 *   HL_SPAN(HL_LOG_INFO, "work", HL_FIELD_I64("n", hl_arg_i32(call, 0)));   // closed at the end of the scope
 *   HL_EVENT(HL_LOG_DEBUG, "step %d done", 1);
 *   HL_EVENT_FIELDS(HL_LOG_INFO, HL_FIELDS(HL_FIELD_BOOL("cached", true)), "lookup");
 *   return hl_ok(hl_i32(0));
 * }
 * ```
 */
#ifndef HYPERLIGHT_TRACE_H
#define HYPERLIGHT_TRACE_H

#include "guest.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One typed field of a span or event. Build it with the HL_FIELD_* macros. */
typedef struct hl_trace_field {
  const char *key; /**< NUL-terminated UTF-8 key (at most 255 bytes are kept; NULL is ""). */
  uint8_t type;    /**< HL_TRACE_FIELD_STRING, _I64, _U64, _F64 or _BOOL; fields of other types are left out. */
  union {
    struct {
      const char *data; /**< UTF-8 text (NULL is ""). */
      size_t len;       /**< Bytes, or SIZE_MAX for "NUL-terminated". */
    } str;              /**< HL_TRACE_FIELD_STRING */
    int64_t i64;        /**< HL_TRACE_FIELD_I64 */
    uint64_t u64;       /**< HL_TRACE_FIELD_U64 */
    double f64;         /**< HL_TRACE_FIELD_F64 */
    bool b;             /**< HL_TRACE_FIELD_BOOL */
  } as;
} hl_trace_field;

/** A string field over the NUL-terminated `v` (evaluated once). */
#define HL_FIELD_STR(k, v) ((hl_trace_field){(k), HL_TRACE_FIELD_STRING, {.str = {(v), (size_t)-1}}})
/** A string field over `n` bytes at `v`. */
#define HL_FIELD_STR_N(k, v, n) ((hl_trace_field){(k), HL_TRACE_FIELD_STRING, {.str = {(v), (n)}}})
/** A signed integer field. */
#define HL_FIELD_I64(k, v) ((hl_trace_field){(k), HL_TRACE_FIELD_I64, {.i64 = (int64_t)(v)}})
/** An unsigned integer field. */
#define HL_FIELD_U64(k, v) ((hl_trace_field){(k), HL_TRACE_FIELD_U64, {.u64 = (uint64_t)(v)}})
/** A floating-point field. */
#define HL_FIELD_F64(k, v) ((hl_trace_field){(k), HL_TRACE_FIELD_F64, {.f64 = (double)(v)}})
/** A boolean field. */
#define HL_FIELD_BOOL(k, v) ((hl_trace_field){(k), HL_TRACE_FIELD_BOOL, {.b = (bool)(v)}})

/**
 * An open span of the current run; 0 when the span is not recorded (filtered
 * out, tracing off, or deeper than HL_TRACE_MAX_OPEN_SPANS). Ids restart at
 * every run: a handle is only valid in the run that opened it.
 */
typedef uint32_t hl_trace_span;

/**
 * Least severe level anything may be recorded at in this run: the smallest of
 * the host's level and its per-target levels, or HL_LOG_OFF when the host
 * records no spans and events. The runtime sets it at every entry; read it
 * only through the macros and {@link hl_trace_enabled}.
 */
extern uint8_t hl_trace_min_level;

/**
 * @returns true when a span or event at `level` with `target` would be
 * recorded in this run (host enabled it, level and the longest matching
 * target prefix allow it). Use it to skip computing expensive fields.
 */
bool hl_trace_enabled(hl_log_level level, const char *target);

/**
 * Opens a span as a child of the innermost open span.
 *
 * @param level - its level
 * @param name - NUL-terminated UTF-8 name (at most HL_TRACE_MAX_NAME_SIZE bytes are kept)
 * @param target - NUL-terminated UTF-8 target (at most 255 bytes kept; NULL is "")
 * @param fields - `field_count` fields (may be NULL when 0)
 * @returns the span, to pass to {@link hl_trace_span_close}; 0 when not recorded
 */
hl_trace_span hl_trace_span_open(hl_log_level level, const char *name, const char *target, const hl_trace_field *fields,
                                 size_t field_count);

/** Closes an open span (0, or a span that is not open, is ignored). */
void hl_trace_span_close(hl_trace_span span);

/** Adds fields to an open span (0, or a span that is not open, is ignored). */
void hl_trace_span_record(hl_trace_span span, const hl_trace_field *fields, size_t field_count);

/**
 * Records an event inside the innermost open span; its message is formatted
 * like printf (only when the event is recorded) and cut to
 * HL_TRACE_MAX_NAME_SIZE bytes.
 */
void hl_trace_event(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                    const char *fmt, ...) HL_PRINTF(5, 6);

/** {@link hl_trace_event} with a `va_list`. */
void hl_trace_vevent(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                     const char *fmt, va_list ap);

/**
 * @returns the W3C traceparent of the host span around this run
 * (NUL-terminated ASCII), to hand on to host functions; NULL when the host
 * gave none.
 */
const char *hl_trace_traceparent(void);

/** Closes `*span` (the cleanup function behind {@link HL_SPAN}). */
HL_INLINE void hl_trace_span_close_scope(hl_trace_span *span) {
  if (*span) hl_trace_span_close(*span);
}

/* ------------------------------------------------------------------------ */
/* Macros: nothing unless HL_TRACE is defined                                */
/* ------------------------------------------------------------------------ */

/** The target the macros record; define it before including this header to change it. */
#ifndef HL_TRACE_TARGET
#define HL_TRACE_TARGET HL_LOG_TARGET
#endif

/** Level of {@link HL_TRACE_FUNCTION} spans; define it before including this header to change it. */
#ifndef HL_TRACE_FUNCTION_LEVEL
#define HL_TRACE_FUNCTION_LEVEL HL_LOG_INFO
#endif

/** `fields, field_count` for an array of HL_FIELD_* values (none is allowed), e.g. for HL_EVENT_FIELDS. */
#define HL_FIELDS(...) \
  ((const hl_trace_field[]){__VA_ARGS__}), (sizeof((const hl_trace_field[]){__VA_ARGS__}) / sizeof(hl_trace_field))

#define HL__TRACE_CAT2(a, b) a##b
#define HL__TRACE_CAT(a, b) HL__TRACE_CAT2(a, b)

#ifdef HL_TRACE

/** The one-branch test every macro makes first. */
#define HL_TRACE_MAY(level) __builtin_expect((unsigned)(level) >= hl_trace_min_level, 0)

/** HL_TRACE: {@link hl_trace_enabled} for HL_TRACE_TARGET; without it, false. */
#define HL_TRACE_ENABLED(level) (HL_TRACE_MAY(level) && hl_trace_enabled((level), HL_TRACE_TARGET))

/**
 * Opens a span that closes when the enclosing scope ends.
 * `HL_SPAN(level, "name", HL_FIELD_I64("k", v), ...);`
 */
#define HL_SPAN(level, name, ...)                                                                       \
  hl_trace_span HL__TRACE_CAT(hl__span_, __COUNTER__) __attribute__((cleanup(hl_trace_span_close_scope))) = \
      HL_TRACE_MAY(level) ? hl_trace_span_open((level), (name), HL_TRACE_TARGET, HL_FIELDS(__VA_ARGS__)) : 0

/** Opens a span and evaluates to its handle: `hl_trace_span s = HL_SPAN_BEGIN(level, "name", fields...);` */
#define HL_SPAN_BEGIN(level, name, ...) \
  (HL_TRACE_MAY(level) ? hl_trace_span_open((level), (name), HL_TRACE_TARGET, HL_FIELDS(__VA_ARGS__)) : 0)

/** Closes a span from HL_SPAN_BEGIN. */
#define HL_SPAN_END(span) hl_trace_span_close(span)

/** Adds fields to a span from HL_SPAN_BEGIN. */
#define HL_SPAN_RECORD(span, ...)                                                \
  do {                                                                           \
    hl_trace_span hl__s = (span);                                                \
    if (hl__s) hl_trace_span_record(hl__s, HL_FIELDS(__VA_ARGS__));              \
  } while (0)

/** Records an event with a printf-formatted message: `HL_EVENT(HL_LOG_INFO, "got %d", n);` */
#define HL_EVENT(level, ...)                                                                   \
  do {                                                                                         \
    if (HL_TRACE_MAY(level)) hl_trace_event((level), HL_TRACE_TARGET, NULL, 0, __VA_ARGS__);  \
  } while (0)

/** An event with fields: `HL_EVENT_FIELDS(HL_LOG_INFO, HL_FIELDS(HL_FIELD_I64("n", n)), "got %d", n);` */
#define HL_EVENT_FIELDS(level, fields, ...)                                                \
  do {                                                                                     \
    if (HL_TRACE_MAY(level)) hl_trace_event((level), HL_TRACE_TARGET, fields, __VA_ARGS__); \
  } while (0)

/** Instruments the enclosing function: a span named after it (`__func__`) until it returns. */
#define HL_TRACE_FUNCTION() HL_SPAN(HL_TRACE_FUNCTION_LEVEL, __func__)

#else /* !HL_TRACE: nothing is compiled, no argument is evaluated */

#define HL_TRACE_ENABLED(level) false
#define HL_SPAN(level, name, ...) ((void)0)
#define HL_SPAN_BEGIN(level, name, ...) ((hl_trace_span)0)
#define HL_SPAN_END(span) ((void)sizeof(span))
#define HL_SPAN_RECORD(span, ...) ((void)sizeof(span))
#define HL_EVENT(level, ...) ((void)0)
#define HL_EVENT_FIELDS(level, fields, ...) ((void)0)
#define HL_TRACE_FUNCTION() ((void)0)

#endif /* HL_TRACE */

#ifdef __cplusplus
}
#endif

#endif /* HYPERLIGHT_TRACE_H */
