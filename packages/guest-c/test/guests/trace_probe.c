/*
 * A guest for the tracing edge cases the fixture does not reach: cuts at
 * UTF-8 boundaries, fields left out, span limits, out-of-order closes,
 * filters as the guest sees them, realloc/calloc records. Built WITHOUT
 * HL_TRACE (test/run.mjs): the hl_trace_* functions work regardless, and the
 * macros must compile to nothing.
 */
#include <hyperlight/guest.h>
#include <hyperlight/trace.h>
#include <stdlib.h>
#include <string.h>

/* `n` bytes of `c` followed by `tail`, in run memory. */
static char *text(char c, size_t n, const char *tail) {
  size_t tail_len = strlen(tail);
  char *s = hl_run_alloc(n + tail_len + 1);
  memset(s, c, n);
  memcpy(s + n, tail, tail_len + 1);
  return s;
}

static hl_result cut(const hl_call *call) {
  (void)call;
  hl_trace_field long_key = HL_FIELD_BOOL(text('k', 254, "\xc3\xa9"), true);                 /* 254 + é */
  hl_trace_field long_value = HL_FIELD_STR("v", text('v', 1022, "\xf0\x9f\x98\x80"));       /* 1022 + 😀 */
  hl_trace_field fields[] = {long_key, long_value};
  hl_trace_span span = hl_trace_span_open(HL_LOG_INFO, text('n', 1023, "\xe2\x82\xac"),     /* 1023 + € */
                                          text('t', 254, "\xe2\x82\xac"), fields, 2);        /* 254 + € */
  hl_trace_event(HL_LOG_INFO, "probe", NULL, 0, "%s", text('a', 1023, "\xc3\xa9"));          /* 1023 + é */
  hl_trace_span_close(span);
  return hl_ok(hl_i32(0));
}

/* Four 1000-byte fields fit a record, a fifth does not; a small one after it does. */
static hl_result left_out(const hl_call *call) {
  (void)call;
  const char *big = text('x', 1000, "");
  hl_trace_field fields[] = {HL_FIELD_STR("f1", big), HL_FIELD_STR("f2", big), HL_FIELD_STR("f3", big),
                             HL_FIELD_STR("f4", big), HL_FIELD_STR("f5", big), HL_FIELD_BOOL("ok", true),
                             {"bad-type", 99, {.u64 = 0}}};
  hl_trace_span_close(hl_trace_span_open(HL_LOG_INFO, "many", "probe", fields, sizeof fields / sizeof fields[0]));
  return hl_ok(hl_i32(0));
}

/* Opens `n` spans and closes them innermost first; returns how many were recorded. */
static hl_result deep(const hl_call *call) {
  int32_t n = hl_arg_i32(call, 0), recorded = 0;
  hl_trace_span *spans = hl_run_alloc((size_t)n * sizeof *spans);
  for (int32_t i = 0; i < n; i++) recorded += (spans[i] = hl_trace_span_open(HL_LOG_INFO, "deep", "probe", NULL, 0)) != 0;
  while (n-- > 0) hl_trace_span_close(spans[n]);
  return hl_ok(hl_i32(recorded));
}

/* a > b > c; b closed first; fields added to a; stale closes ignored. */
static hl_result out_of_order(const hl_call *call) {
  (void)call;
  hl_trace_span a = hl_trace_span_open(HL_LOG_INFO, "a", "probe", NULL, 0);
  hl_trace_span b = hl_trace_span_open(HL_LOG_INFO, "b", "probe", NULL, 0);
  hl_trace_span c = hl_trace_span_open(HL_LOG_INFO, "c", "probe", NULL, 0);
  hl_trace_span_close(b);
  hl_trace_event(HL_LOG_INFO, "probe", NULL, 0, "in c");
  hl_trace_span_close(c);
  hl_trace_field more = HL_FIELD_U64("later", 42);
  hl_trace_span_record(a, &more, 1);
  hl_trace_span_record(b, &more, 1); /* closed: ignored */
  hl_trace_event(HL_LOG_INFO, "probe", NULL, 0, "in a");
  hl_trace_span_close(a);
  hl_trace_span_close(a);
  hl_trace_span_close(999);
  return hl_ok(hl_i32(0));
}

static hl_result enabled(const hl_call *call) {
  return hl_ok(hl_bool(hl_trace_enabled((hl_log_level)hl_arg_i32(call, 0), hl_arg_string(call, 1, NULL))));
}

static hl_result traceparent(const hl_call *call) {
  (void)call;
  const char *tp = hl_trace_traceparent();
  return hl_ok(hl_string(tp ? tp : "(none)"));
}

static hl_result reallocate(const hl_call *call) {
  (void)call;
  char *p = calloc(10, 10);
  p = realloc(p, 5000);
  free(p);
  return hl_ok(hl_i32(0));
}

/* Without HL_TRACE no macro argument is evaluated: returns 0. */
static hl_result macros(const hl_call *call) {
  (void)call;
  int evaluated = 0;
  HL_SPAN(HL_LOG_INFO, "x", HL_FIELD_I64("n", ++evaluated));
  hl_trace_span s = HL_SPAN_BEGIN(HL_LOG_INFO, "y", HL_FIELD_I64("n", ++evaluated));
  HL_SPAN_RECORD(s, HL_FIELD_I64("n", ++evaluated));
  HL_SPAN_END(s);
  HL_EVENT(HL_LOG_CRITICAL, "%d", ++evaluated);
  HL_EVENT_FIELDS(HL_LOG_CRITICAL, HL_FIELDS(HL_FIELD_I64("n", ++evaluated)), "e");
  HL_TRACE_FUNCTION();
  return hl_ok(hl_i32(evaluated + HL_TRACE_ENABLED(HL_LOG_CRITICAL)));
}

void hyperlight_main(void) {
  hl_register_function("Cut", cut, HL_TYPE_I32, 0);
  hl_register_function("LeftOut", left_out, HL_TYPE_I32, 0);
  hl_register_function("Deep", deep, HL_TYPE_I32, 1, HL_TYPE_I32);
  hl_register_function("OutOfOrder", out_of_order, HL_TYPE_I32, 0);
  hl_register_function("Enabled", enabled, HL_TYPE_BOOL, 2, HL_TYPE_I32, HL_TYPE_STRING);
  hl_register_function("Traceparent", traceparent, HL_TYPE_STRING, 0);
  hl_register_function("Reallocate", reallocate, HL_TYPE_I32, 0);
  hl_register_function("Macros", macros, HL_TYPE_I32, 0);
}
