/*
 * test/guests/probe.c in the host emulator: the runtime's edge paths. The
 * ELF path comes from $HL_PROBE.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host_emulator.h"

static char prints_at_call[256];

static hl_result host_record_prints(const hl_value *args, size_t argc) {
  (void)args, (void)argc;
  const emu_run *run = emu_current_run();
  snprintf(prints_at_call, sizeof prints_at_call, "%.*s", (int)run->printed_len, run->printed);
  return hl_ok(hl_u32(run->print_frames));
}

static hl_result host_describe(const hl_value *a, size_t argc) {
  static char text[512];
  if (argc != 11) return (hl_result){HL_ERROR_HOST_FUNCTION_FAILED, "HostDescribe: takes 11 arguments", {0}};
  snprintf(text, sizeof text, "%s %d %ld %u %lu %g %g %d %s %d [%u,%u]", a[0].as.string.data, a[1].as.i32, (long)a[2].as.i64,
           a[3].as.u32, (unsigned long)a[4].as.u64, (double)a[5].as.f32, a[6].as.f64, a[7].as.boolean, a[8].as.string.data,
           a[9].as.i32, a[10].as.bytes.data[0], a[10].as.bytes.data[1]);
  return hl_ok(hl_string(text));
}

static hl_result host_garbage(const hl_value *args, size_t argc) {
  (void)args, (void)argc;
  return (hl_result){EMU_REPLY_GARBAGE, "", {0}};
}

__attribute__((constructor)) static void register_hosts(void) {
  emu_register_host("HostRecordPrints", host_record_prints);
  emu_register_host("HostDescribe", host_describe);
  emu_register_host("HostGarbage", host_garbage);
}

static emu_guest *load(const emu_config *cfg) { return emu_load(getenv("HL_PROBE"), cfg); }

static emu_guest *start(const emu_config *cfg) {
  emu_guest *g = load(cfg);
  if (!g) return NULL;
  const emu_run *r = emu_enter(g, HL_OP_INIT, 5000);
  CHECK(r->kind == EMU_HALT, "OP_INIT: kind %d %s", r->kind, r->abort_message);
  return g;
}

static hl_result call(emu_guest *g, const char *fn, hl_type ret, size_t argc, const hl_value *args, const emu_run **run) {
  hl_result r = {HL_ERROR_NONE, NULL, {0}};
  const emu_run *dummy;
  if (!run) run = &dummy;
  if (!emu_call(g, fn, ret, argc, args, &r, run)) {
    CHECK(0, "%s: run ended with kind %d (%s)", fn, (*run)->kind, (*run)->abort_message);
    r.error = -1;
  }
  return r;
}

TEST(probe_init_can_call_host_and_print) {
  emu_guest *g = load(NULL);
  if (!g) return;
  const emu_run *run = emu_enter(g, HL_OP_INIT, 5000);
  CHECK(run->kind == EMU_HALT && run->host_calls == 1, "init: kind %d, %u host calls", run->kind, run->host_calls);
  CHECK(!strcmp(run->printed, "init printed\n"), "init printed \"%s\"", run->printed);
  hl_result r = call(g, "InitEcho", HL_TYPE_STRING, 0, NULL, NULL);
  CHECK(!r.error && r.value.as.string.len == 9 && !memcmp(r.value.as.string.data, "from init", 9), "InitEcho");
  run = emu_enter(g, HL_OP_INIT, 5000);
  CHECK(run->kind == EMU_ABORT && run->abort_code == HL_ABORT_CODE_BAD_ENVIRONMENT &&
            !strcmp(run->abort_message, "OP_INIT ran twice; the guest was already initialised"),
        "second OP_INIT: kind %d %s", run->kind, run->abort_message);
  emu_free(g);
}

TEST(probe_logs_batch_and_flush_when_full) {
  emu_config cfg = {.log_size = 4096};
  emu_guest *g = start(&cfg);
  if (!g) return;
  const emu_run *run;
  hl_value args[2] = {hl_u32(100), hl_u32(200)};
  call(g, "LogMany", HL_TYPE_VOID, 2, args, &run);
  CHECK(run->log_count == 100, "%u records", run->log_count);
  /* ~250-byte records, 4 KiB area: flushes only when full (~every 15). */
  CHECK(run->log_flushes >= 5 && run->log_flushes <= 8, "%u LOG_FLUSH exits", run->log_flushes);
  for (unsigned i = 0; i < run->log_count; i++) {
    char prefix[16];
    snprintf(prefix, sizeof prefix, "%u:xxxx", i);
    if (strncmp(run->logs[i].message, prefix, strlen(prefix)) || strlen(run->logs[i].message) != strlen(prefix) - 4 + 200) {
      CHECK(0, "record %u: \"%.20s...\"", i, run->logs[i].message);
      break;
    }
  }
  /* One record larger than the whole area is shortened to fit. */
  args[0] = hl_u32(1), args[1] = hl_u32(10000);
  call(g, "LogMany", HL_TYPE_VOID, 2, args, &run);
  CHECK(run->log_count == 1 && !strncmp(run->logs[0].message, "0:xxx", 5), "oversized record: %u records", run->log_count);
  emu_free(g);
}

TEST(probe_prints_are_chunked_and_ordered) {
  emu_config cfg = {.output_size = 4096};
  emu_guest *g = start(&cfg);
  if (!g) return;
  const emu_run *run;
  hl_value n = hl_u32(10000);
  call(g, "PrintBig", HL_TYPE_VOID, 1, &n, &run);
  bool right = run->printed_len == 10000;
  for (size_t i = 0; right && i < 10000; i++) right = run->printed[i] == (char)('a' + i % 26);
  CHECK(right && run->print_frames == 3, "PrintBig: %zu bytes in %u frames", run->printed_len, run->print_frames);
  hl_result r = call(g, "PrintfThenHost", HL_TYPE_U32, 0, NULL, &run);
  CHECK(!strcmp(prints_at_call, "before "), "stdout not flushed before the host call: \"%s\"", prints_at_call);
  CHECK(!r.error && !strcmp(run->printed, "before after"), "printed \"%s\"", run->printed);
  emu_free(g);
}

TEST(probe_host_call_corner_cases) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_result r = call(g, "CallHostEleven", HL_TYPE_STRING, 0, NULL, NULL);
  CHECK(!r.error && r.value.type == HL_TYPE_STRING && !strcmp(r.value.as.string.data, "s -1 -2 3 4 5.5 -6.25 1 t 7 [1,2]"),
        "eleven arguments: %s", r.error ? r.message : r.value.as.string.data);
  r = call(g, "CallHostWrongType", HL_TYPE_VOID, 0, NULL, NULL);
  CHECK(r.error == HL_ERROR_WRONG_RETURN_TYPE && !strcmp(r.message, "host function \"HostEchoI32\" returned i32 but string was expected"),
        "wrong type: %d %s", r.error, r.message);
  r = call(g, "CallHostGarbage", HL_TYPE_VOID, 0, NULL, NULL);
  CHECK(r.error == HL_ERROR_MALFORMED_MESSAGE && strstr(r.message, "malformed FunctionCallResult: "),
        "garbage reply: %d %s", r.error, r.message);
  hl_value big = hl_u32(100000);
  r = call(g, "CallHostTooBig", HL_TYPE_STRING, 1, &big, NULL);
  CHECK(r.error == HL_ERROR_MESSAGE_TOO_LARGE &&
            !strcmp(r.message, "the call needs 100101 bytes but the output buffer holds 65536"),
        "too big: %d %s", r.error, r.message);
  emu_free(g);
}

TEST(probe_run_memory_is_released) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value n = hl_u32(300);
  hl_result r = call(g, "ManyHostCalls", HL_TYPE_U64, 1, &n, NULL);
  CHECK(!r.error && r.value.as.u64 == 0, "hl_result_free left %lu bytes", (unsigned long)r.value.as.u64);
  r = call(g, "HeapFree", HL_TYPE_U64, 0, NULL, NULL);
  uint64_t before = r.value.as.u64;
  hl_value s = hl_u32(1000);
  for (int i = 0; i < 50; i++) {
    call(g, "CallHostEleven", HL_TYPE_STRING, 0, NULL, NULL);
    call(g, "BigResult", HL_TYPE_BYTES, 1, &s, NULL);
  }
  r = call(g, "HeapFree", HL_TYPE_U64, 0, NULL, NULL);
  CHECK(r.value.as.u64 == before, "heap shrank from %lu to %lu across runs", (unsigned long)before, (unsigned long)r.value.as.u64);
  emu_free(g);
}

TEST(probe_results_too_large_for_the_output_buffer) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value n = hl_u32(60000);
  hl_result r = call(g, "BigResult", HL_TYPE_BYTES, 1, &n, NULL);
  CHECK(!r.error && r.value.as.bytes.len == 60000, "60000 bytes fit");
  n = hl_u32(70000);
  r = call(g, "BigResult", HL_TYPE_BYTES, 1, &n, NULL);
  CHECK(r.error == HL_ERROR_MESSAGE_TOO_LARGE &&
            !strcmp(r.message, "the result of guest function \"BigResult\" needs 70064 bytes but the output buffer holds 65536"),
        "too large: %d %s", r.error, r.message);
  emu_free(g);
}

TEST(probe_misuse_panics) {
  static const struct {
    const char *fn;
    hl_type arg_type;
    const char *message;
  } cases[] = {
      {"WrongResultType", HL_TYPE_NONE, "function \"WrongResultType\" is declared to return i32 but its handler returned string"},
      {"WrongAccessor", HL_TYPE_I32, "argument 0 of function \"WrongAccessor\" is i32, handler read it as u64"},
      /* musl's assert: the message goes to stderr (the host's print), then abort(). */
      {"FailedAssert", HL_TYPE_I32, "abort() called"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    emu_guest *g = start(NULL);
    if (!g) return;
    hl_value arg = hl_i32(2);
    hl_result r;
    const emu_run *run;
    emu_call(g, cases[i].fn, HL_TYPE_NONE, cases[i].arg_type ? 1 : 0, &arg, &r, &run);
    CHECK(run->kind == EMU_ABORT && run->abort_code == HL_ABORT_CODE_PANIC &&
              !strncmp(run->abort_message, cases[i].message, strlen(cases[i].message)),
          "%s: kind %d code %#x \"%s\"", cases[i].fn, run->kind, run->abort_code, run->abort_message);
    if (i == 2) CHECK(strstr(run->printed, "Assertion failed: hl_arg_i32(call, 0) == 1"), "assert printed \"%s\"", run->printed);
    emu_free(g);
  }
}

TEST(probe_bad_environment_aborts) {
  struct {
    const char *what;
    void (*corrupt)(hl_peb *);
    uint64_t op;
    const char *message;
  } cases[] = {
      {"magic", NULL, HL_OP_INIT, ""}, /* a PEB without magic may point anywhere: no text */
      {"version", NULL, HL_OP_INIT, "the guest was built for hyperlight ABI version 2 but the host speaks version 99"},
      {"call first", NULL, HL_OP_CALL, "OP_CALL before OP_INIT; the guest is not initialised"},
      {"unknown op", NULL, 7, "unknown entry operation 7 (expected OP_INIT or OP_CALL)"},
      {"log level", NULL, HL_OP_INIT, "invalid max_log_level 7 in the PEB (at most 6)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    emu_guest *g = load(NULL);
    if (!g) return;
    emu_peb_writable(g, true);
    hl_peb *p = emu_peb(g);
    if (i == 0) p->magic ^= 1;
    if (i == 1) p->abi_version = 99;
    if (i == 4) p->max_log_level = 7;
    emu_peb_writable(g, false);
    const emu_run *run = emu_enter(g, cases[i].op, 5000);
    CHECK(run->kind == EMU_ABORT && run->abort_code == HL_ABORT_CODE_BAD_ENVIRONMENT && !strcmp(run->abort_message, cases[i].message),
          "%s: kind %d code %#x \"%s\"", cases[i].what, run->kind, run->abort_code, run->abort_message);
    emu_free(g);
  }
}

static uint64_t ulps(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
  int64_t x, y;
  memcpy(&x, &a, 8);
  memcpy(&y, &b, 8);
  if (x < 0) x = INT64_MIN - x;
  if (y < 0) y = INT64_MIN - y;
  return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

TEST(probe_guest_printf_and_math_match_glibc) {
  emu_guest *g = start(NULL);
  if (!g) return;
  const double vals[] = {0.0, -0.0, 1.0, 0.1, -2.5, 1e300, 4.9e-324, 123456.789, 2.0 / 3, 1e21};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    hl_value v = hl_f64(vals[i]);
    hl_result r = call(g, "FormatF64", HL_TYPE_STRING, 1, &v, NULL);
    char want[2048];
    snprintf(want, sizeof want, "%.17g|%e|%.3f|%g|%+08.2f", vals[i], vals[i], vals[i], vals[i], vals[i]);
    CHECK(!r.error && !strcmp(r.value.as.string.data, want), "FormatF64(%g): \"%s\", glibc \"%s\"", vals[i],
          r.error ? r.message : r.value.as.string.data, want);
  }
  const double xs[] = {0.5, 1.0, 2.0, 3.75, 10.0, 100.25};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    double x = xs[i];
    hl_value v = hl_f64(x);
    hl_result r = call(g, "MathF64", HL_TYPE_BYTES, 1, &v, NULL);
    double want[] = {sin(x), cos(x), tan(x), exp(x), log(x), sqrt(x), atan(x), pow(x, 2.5), floor(x), fmod(x, 3)};
    double got[10];
    CHECK(!r.error && r.value.as.bytes.len == sizeof got, "MathF64(%g)", x);
    if (r.error) continue;
    memcpy(got, r.value.as.bytes.data, sizeof got);
    for (int k = 0; k < 10; k++) CHECK(ulps(got[k], want[k]) <= 2, "math %d at %g: %.17g vs %.17g", k, x, got[k], want[k]);
  }
  emu_free(g);
}
