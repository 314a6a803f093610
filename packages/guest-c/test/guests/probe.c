/*
 * A test-only guest for the runtime's edge paths (test/native/e2e_probe.c):
 * log batching, chunked prints, host-call corner cases, run memory, misuse.
 */
#include <assert.h>
#include <hyperlight/guest.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest block malloc hands out now, to within 16 bytes: a leak makes it shrink. */
static size_t hl_heap_largest_free(void) {
  size_t lo = 0, hi = (size_t)1 << 32;
  while (hi - lo > 16) {
    size_t mid = lo + (hi - lo) / 2;
    void *p = malloc(mid);
    if (p) lo = mid;
    else hi = mid;
    free(p);
  }
  return lo;
}

static hl_value init_echo; /* what a host call made during OP_INIT returned */

static hl_result log_many(const hl_call *call) {
  uint32_t count = hl_arg_u32(call, 0), size = hl_arg_u32(call, 1);
  char *text = hl_run_alloc(size + 1);
  memset(text, 'x', size);
  text[size] = 0;
  for (uint32_t i = 0; i < count; i++) HL_LOG(HL_LOG_INFO, "%u:%s", i, text);
  return hl_ok(hl_void());
}

static hl_result print_big(const hl_call *call) {
  uint32_t n = hl_arg_u32(call, 0);
  char *text = hl_run_alloc(n);
  for (uint32_t i = 0; i < n; i++) text[i] = (char)('a' + i % 26);
  hl_print_n(text, n);
  return hl_ok(hl_void());
}

static hl_result printf_then_host(const hl_call *call) {
  (void)call;
  printf("before "); /* no newline: must still reach the host before the call */
  hl_result r = hl_call_host("HostRecordPrints", HL_TYPE_U32, 0);
  printf("after");
  return r;
}

static hl_result call_host_eleven(const hl_call *call) {
  (void)call;
  static const uint8_t b[] = {1, 2};
  return hl_call_host("HostDescribe", HL_TYPE_STRING, 11, hl_string("s"), hl_i32(-1), hl_i64(-2), hl_u32(3), hl_u64(4),
                      hl_f32(5.5f), hl_f64(-6.25), hl_bool(true), hl_string("t"), hl_i32(7), hl_bytes(b, 2));
}

static hl_result call_host_wrong_type(const hl_call *call) {
  (void)call;
  hl_result r = hl_call_host("HostEchoI32", HL_TYPE_STRING, 1, hl_i32(5));
  return hl_err(r.error, "%s", r.message ? r.message : "no error?");
}

static hl_result call_host_garbage(const hl_call *call) {
  (void)call;
  hl_result r = hl_call_host("HostGarbage", HL_TYPE_I32, 0);
  return hl_err(r.error, "%s", r.message ? r.message : "no error?");
}

static hl_result call_host_too_big(const hl_call *call) {
  size_t n = hl_arg_u32(call, 0);
  char *s = hl_run_alloc(n + 1);
  memset(s, 'y', n);
  s[n] = 0;
  return hl_call_host("HostEchoString", HL_TYPE_STRING, 1, hl_string(s));
}

static hl_result many_host_calls(const hl_call *call) {
  uint32_t n = hl_arg_u32(call, 0);
  size_t before = hl_heap_largest_free();
  for (uint32_t i = 0; i < n; i++) {
    hl_result r = hl_call_host("HostEchoString", HL_TYPE_STRING, 1, hl_string("a string that is copied to run memory"));
    if (hl_is_err(&r)) return r;
    hl_result_free(&r);
  }
  return hl_ok(hl_u64(before - hl_heap_largest_free())); /* 0: nothing kept */
}

static hl_result heap_free(const hl_call *call) {
  (void)call;
  return hl_ok(hl_u64(hl_heap_largest_free()));
}

static hl_result big_result(const hl_call *call) {
  uint32_t n = hl_arg_u32(call, 0);
  uint8_t *b = hl_run_alloc(n ? n : 1);
  memset(b, 0x5a, n);
  return hl_ok(hl_bytes(b, n));
}

static hl_result wrong_result_type(const hl_call *call) {
  (void)call;
  return hl_ok(hl_string("not an i32"));
}

static hl_result wrong_accessor(const hl_call *call) { return hl_ok(hl_i32((int32_t)hl_arg_u64(call, 0))); }

static hl_result failed_assert(const hl_call *call) {
  assert(hl_arg_i32(call, 0) == 1);
  return hl_ok(hl_void());
}

static hl_result get_init_echo(const hl_call *call) {
  (void)call;
  return hl_ok(init_echo);
}

static hl_result format_f64(const hl_call *call) {
  double v = hl_arg_f64(call, 0);
  return hl_ok(hl_string_printf("%.17g|%e|%.3f|%g|%+08.2f", v, v, v, v, v));
}

static hl_result math_f64(const hl_call *call) {
  double x = hl_arg_f64(call, 0);
  static const char *names[] = {"sin", "cos", "tan", "exp", "log", "sqrt", "atan", "pow2.5", "floor", "fmod3"};
  double r[] = {sin(x), cos(x), tan(x), exp(x), log(x), sqrt(x), atan(x), pow(x, 2.5), floor(x), fmod(x, 3)};
  (void)names;
  return hl_ok(hl_bytes_copy(r, sizeof r));
}

void hyperlight_main(void) {
  /* Host calls work during OP_INIT too; the value is kept past the run. */
  hl_result r = hl_call_host("HostEchoString", HL_TYPE_STRING, 1, hl_string("from init"));
  init_echo = hl_is_err(&r) ? hl_string("init call failed") : hl_string(strdup(r.value.as.string.data));
  printf("init printed\n");
  hl_register_function("LogMany", log_many, HL_TYPE_VOID, 2, HL_TYPE_U32, HL_TYPE_U32);
  hl_register_function("PrintBig", print_big, HL_TYPE_VOID, 1, HL_TYPE_U32);
  hl_register_function("PrintfThenHost", printf_then_host, HL_TYPE_U32, 0);
  hl_register_function("CallHostEleven", call_host_eleven, HL_TYPE_STRING, 0);
  hl_register_function("CallHostWrongType", call_host_wrong_type, HL_TYPE_VOID, 0);
  hl_register_function("CallHostGarbage", call_host_garbage, HL_TYPE_VOID, 0);
  hl_register_function("CallHostTooBig", call_host_too_big, HL_TYPE_STRING, 1, HL_TYPE_U32);
  hl_register_function("ManyHostCalls", many_host_calls, HL_TYPE_U64, 1, HL_TYPE_U32);
  hl_register_function("HeapFree", heap_free, HL_TYPE_U64, 0);
  hl_register_function("BigResult", big_result, HL_TYPE_BYTES, 1, HL_TYPE_U32);
  hl_register_function("WrongResultType", wrong_result_type, HL_TYPE_I32, 0);
  hl_register_function("WrongAccessor", wrong_accessor, HL_TYPE_I32, 1, HL_TYPE_I32);
  hl_register_function("FailedAssert", failed_assert, HL_TYPE_VOID, 1, HL_TYPE_I32);
  hl_register_function("InitEcho", get_init_echo, HL_TYPE_STRING, 0);
  hl_register_function("FormatF64", format_f64, HL_TYPE_STRING, 1, HL_TYPE_F64);
  hl_register_function("MathF64", math_f64, HL_TYPE_BYTES, 1, HL_TYPE_F64);
}
