/*
 * The fixture guest (fixtures/guests/c/simpleguest) run end to end in the
 * host emulator: every function of its README, the runtime's call checks,
 * and the exits. The ELF path comes from $HL_SIMPLEGUEST.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host_emulator.h"

/* ---- host functions the fixture needs ------------------------------------------ */

static hl_result host_echo(const hl_value *args, size_t argc) {
  if (argc != 1) return (hl_result){HL_ERROR_HOST_FUNCTION_FAILED, "HostEcho*: takes 1 argument", {0}};
  return hl_ok(args[0]);
}

static hl_result host_add(const hl_value *args, size_t argc) {
  if (argc != 2 || args[0].type != HL_TYPE_I32 || args[1].type != HL_TYPE_I32)
    return (hl_result){HL_ERROR_HOST_FUNCTION_FAILED, "HostAdd: takes (i32, i32)", {0}};
  return hl_ok(hl_i32(args[0].as.i32 + args[1].as.i32));
}

static hl_result host_throws(const hl_value *args, size_t argc) {
  (void)args, (void)argc;
  return (hl_result){HL_ERROR_HOST_FUNCTION_FAILED, "HostThrows: the host function threw", {0}};
}

static hl_result host_name(const hl_value *args, size_t argc) {
  (void)args;
  if (argc != 0) return (hl_result){HL_ERROR_HOST_FUNCTION_FAILED, "HostName: takes no arguments", {0}};
  return hl_ok(hl_string("the emulator"));
}

__attribute__((constructor)) static void register_hosts(void) {
  static const char *echoes[] = {"HostEchoI32", "HostEchoU32", "HostEchoI64", "HostEchoU64", "HostEchoF32",
                                 "HostEchoF64", "HostEchoString", "HostEchoBool", "HostEchoBytes"};
  for (size_t i = 0; i < sizeof echoes / sizeof echoes[0]; i++) emu_register_host(echoes[i], host_echo);
  emu_register_host("HostAdd", host_add);
  emu_register_host("HostThrows", host_throws);
  emu_register_host("HostName", host_name);
  emu_register_host("HostNameHostName", host_name);
}

/* ---- helpers ----------------------------------------------------------------------- */

static const uint8_t init_blob[] = {'i', 'n', 'i', 't', 0, 0xff};

/* A freshly initialised guest (most tests want their own .data/.bss). */
static emu_guest *start(const emu_config *cfg) {
  emu_config c = cfg ? *cfg : (emu_config){0};
  if (!c.init_data) c.init_data = init_blob, c.init_data_size = sizeof init_blob;
  emu_guest *g = emu_load(getenv("HL_SIMPLEGUEST"), &c);
  if (!g) return NULL;
  const emu_run *r = emu_enter(g, HL_OP_INIT, 5000);
  if (r->kind != EMU_HALT) {
    CHECK(0, "OP_INIT ended with kind %d: %s", r->kind, r->abort_message);
    emu_free(g);
    return NULL;
  }
  return g;
}

static bool same(const hl_value *a, const hl_value *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
    case HL_TYPE_STRING:
      return a->as.string.len == b->as.string.len && !memcmp(a->as.string.data, b->as.string.data, a->as.string.len);
    case HL_TYPE_BYTES: return a->as.bytes.len == b->as.bytes.len && !memcmp(a->as.bytes.data, b->as.bytes.data, a->as.bytes.len);
    case HL_TYPE_BOOL: return a->as.boolean == b->as.boolean;
    case HL_TYPE_I32: case HL_TYPE_U32: case HL_TYPE_F32: return !memcmp(&a->as, &b->as, 4);
    case HL_TYPE_VOID: return true;
    default: return !memcmp(&a->as, &b->as, 8);
  }
}

/* Calls and expects a value equal to `want`. */
static void expect_value(emu_guest *g, const char *fn, hl_type ret, size_t argc, const hl_value *args, hl_value want) {
  hl_result r;
  const emu_run *run;
  bool ok = emu_call(g, fn, ret, argc, args, &r, &run);
  CHECK(ok, "%s: run ended with kind %d (%s)", fn, run->kind, run->abort_message);
  if (!ok) return;
  CHECK(r.error == HL_ERROR_NONE, "%s: error %d %s", fn, r.error, r.message);
  CHECK(r.error || same(&r.value, &want), "%s: wrong value (type %d)", fn, r.value.type);
}

/* Calls and expects an error result with `code` and exactly `message` (NULL: any). */
static void expect_error(emu_guest *g, const char *fn, hl_type ret, size_t argc, const hl_value *args, hl_error_code code,
                         const char *message) {
  hl_result r;
  const emu_run *run;
  bool ok = emu_call(g, fn, ret, argc, args, &r, &run);
  CHECK(ok, "%s: run ended with kind %d (%s)", fn, run->kind, run->abort_message);
  if (!ok) return;
  CHECK(r.error == code, "%s: error %d, want %d (%s)", fn, r.error, code, r.message ? r.message : "");
  CHECK(!message || (r.message && !strcmp(r.message, message)), "%s: message \"%s\", want \"%s\"", fn, r.message, message);
}

/* Calls and expects the run to end in an abort. */
static const emu_run *expect_abort(emu_guest *g, const char *fn, size_t argc, const hl_value *args, uint32_t code) {
  hl_result r;
  const emu_run *run;
  emu_call(g, fn, HL_TYPE_NONE, argc, args, &r, &run);
  CHECK(run->kind == EMU_ABORT && run->abort_code == code, "%s: kind %d code %#x, want abort %#x", fn, run->kind,
        run->abort_code, code);
  return run;
}

/* ---- tests ------------------------------------------------------------------------- */

TEST(e2e_init_publishes_every_function) {
  emu_guest *g = start(NULL);
  if (!g) return;
  const uint8_t *payload;
  size_t len;
  hl_fb_table root, sig;
  hl_fb_vector fns, params;
  bool present;
  CHECK(!hl_wire_frame(emu_output(g), 64 * 1024, &payload, &len), "details frame");
  CHECK(hl_fb_root(payload, len, &root) && hl_fb_vector_field(&root, 0, 4, &fns, &present) && present, "details table");
  CHECK(fns.count == 71, "%u functions, want 71", fns.count);
  bool found_eleven = false;
  for (uint32_t i = 0; i < fns.count; i++) {
    const char *name;
    uint32_t n;
    uint8_t ret, def = HL_TYPE_VOID;
    if (!hl_fb_vector_table(&fns, i, &sig) || !hl_fb_string(&sig, 0, &name, &n, &present)) continue;
    if (n == 15 && !memcmp(name, "PrintElevenArgs", 15)) {
      found_eleven = true;
      CHECK(hl_fb_vector_field(&sig, 1, 1, &params, &present) && params.count == 11 && payload[params.pos] == HL_TYPE_STRING &&
                payload[params.pos + 10] == HL_TYPE_BYTES,
            "PrintElevenArgs parameters");
      CHECK(hl_fb_scalar(&sig, 2, 1, &def, &ret) && ret == HL_TYPE_STRING, "PrintElevenArgs return type");
    }
  }
  CHECK(found_eleven, "PrintElevenArgs missing");
  emu_free(g);
}

TEST(e2e_echo_every_type) {
  emu_guest *g = start(NULL);
  if (!g) return;
  static const uint8_t bytes[300] = {1, 2, 3, [299] = 0xff};
  const hl_value vals[] = {hl_i32(INT32_MIN), hl_i32(-1), hl_u32(UINT32_MAX), hl_i64(INT64_MIN), hl_u64(UINT64_MAX),
                           hl_f32(-0.0f), hl_f32(3.5f), hl_f64(-0.0), hl_f64(NAN), hl_f64(INFINITY),
                           hl_string(""), hl_string("h\xc3\xa9llo \xf0\x9f\x8c\x8d"), hl_string_n("nul\0inside", 10),
                           hl_bool(true), hl_bool(false), hl_bytes(bytes, 0), hl_bytes(bytes, sizeof bytes)};
  static const char *names[] = {[HL_TYPE_I32] = "EchoI32", [HL_TYPE_U32] = "EchoU32", [HL_TYPE_I64] = "EchoI64",
                                [HL_TYPE_U64] = "EchoU64", [HL_TYPE_F32] = "EchoF32", [HL_TYPE_F64] = "EchoF64",
                                [HL_TYPE_STRING] = "EchoString", [HL_TYPE_BOOL] = "EchoBool", [HL_TYPE_BYTES] = "EchoBytes"};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
    expect_value(g, names[vals[i].type], vals[i].type, 1, &vals[i], vals[i]);
  emu_free(g);
}

TEST(e2e_plain_functions_and_state) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value two[2] = {hl_i32(40), hl_i32(2)};
  expect_value(g, "Add", HL_TYPE_I32, 2, two, hl_i32(42));
  hl_value wrap[2] = {hl_i32(INT32_MAX), hl_i32(1)};
  expect_value(g, "Add", HL_TYPE_I32, 2, wrap, hl_i32(INT32_MIN));
  expect_value(g, "Increment", HL_TYPE_I32, 0, NULL, hl_i32(1));
  expect_value(g, "Increment", HL_TYPE_I32, 0, NULL, hl_i32(2)); /* .bss persists between calls */
  expect_value(g, "VoidFunction", HL_TYPE_VOID, 0, NULL, hl_void());
  hl_value strs[2] = {hl_string("foo"), hl_string("bar")};
  expect_value(g, "Concat", HL_TYPE_STRING, 2, strs, hl_string("foobar"));
  /* Return type NONE means "no expectation". */
  expect_value(g, "Increment", HL_TYPE_NONE, 0, NULL, hl_i32(3));
  static const uint8_t ones[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, zeros[10] = {0};
  hl_value in = hl_bytes(ones, sizeof ones);
  expect_value(g, "SetByteArrayToZero", HL_TYPE_BYTES, 1, &in, hl_bytes(zeros, sizeof zeros));
  expect_value(g, "SetStatic", HL_TYPE_U32, 0, NULL, hl_u32(1));
  expect_value(g, "SetStatic", HL_TYPE_U32, 0, NULL, hl_u32(2));
  emu_free(g);
}

TEST(e2e_host_calls) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value s = hl_string("through the host");
  expect_value(g, "CallHostEchoString", HL_TYPE_STRING, 1, &s, s);
  hl_value two[2] = {hl_i32(5), hl_i32(7)};
  expect_value(g, "CallHostAdd", HL_TYPE_I32, 2, two, hl_i32(12));
  expect_error(g, "CallHostThrows", HL_TYPE_STRING, 0, NULL, HL_ERROR_HOST_FUNCTION_FAILED, "HostThrows: the host function threw");
  expect_error(g, "CallMissingHost", HL_TYPE_STRING, 0, NULL, HL_ERROR_HOST_FUNCTION_NOT_FOUND, "host function is not registered");
  static const uint8_t bytes[] = {9, 8, 7};
  const hl_value vals[] = {hl_i32(-5), hl_u32(5), hl_i64(-5000000000LL), hl_u64(5000000000ULL), hl_f32(-0.0f),
                           hl_f64(-0.0), hl_string("round trip"), hl_bool(true), hl_bytes(bytes, 3)};
  static const char *names[] = {"RoundTripHostI32", "RoundTripHostU32", "RoundTripHostI64",
                                "RoundTripHostU64", "RoundTripHostF32", "RoundTripHostF64",
                                "RoundTripHostString", "RoundTripHostBool", "RoundTripHostBytes"};
  for (size_t i = 0; i < 9; i++) expect_value(g, names[i], vals[i].type, 1, &vals[i], vals[i]);
  emu_free(g);
}

/* CallHostNamed / CallHostNamedRepeated pass the host's reply or error on unchanged. */
TEST(e2e_host_calls_by_name) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value name = hl_string("HostName");
  expect_value(g, "CallHostNamed", HL_TYPE_STRING, 1, &name, hl_string("the emulator"));
  name = hl_string("HostThrows");
  expect_error(g, "CallHostNamed", HL_TYPE_STRING, 1, &name, HL_ERROR_HOST_FUNCTION_FAILED, "HostThrows: the host function threw");
  name = hl_string("HostEchoString"); /* called with no arguments: the host's complaint comes back */
  expect_error(g, "CallHostNamed", HL_TYPE_STRING, 1, &name, HL_ERROR_HOST_FUNCTION_FAILED, "HostEcho*: takes 1 argument");
  name = hl_string("NoSuchHostFunction");
  expect_error(g, "CallHostNamed", HL_TYPE_STRING, 1, &name, HL_ERROR_HOST_FUNCTION_NOT_FOUND, "host function is not registered");
  hl_value twice[2] = {hl_string("HostName"), hl_u32(2)};
  expect_value(g, "CallHostNamedRepeated", HL_TYPE_STRING, 2, twice, hl_string("the emulator"));
  /* A 60000-byte name: built in the guest, sent in the 64 KiB output buffer. */
  hl_value long_name[2] = {hl_string("x"), hl_u32(60000)};
  hl_result r;
  const emu_run *run;
  expect_error(g, "CallHostNamedRepeated", HL_TYPE_STRING, 2, long_name, HL_ERROR_HOST_FUNCTION_NOT_FOUND, NULL);
  CHECK(emu_call(g, "CallHostNamedRepeated", HL_TYPE_STRING, 2, long_name, &r, &run) && run->host_calls == 1,
        "the long name reaches the host");
  emu_free(g);
}

/* Cpuid returns eax, ebx, ecx, edx little-endian: here the emulator's own CPU. */
TEST(e2e_cpuid) {
  emu_guest *g = start(NULL);
  if (!g) return;
  for (uint32_t leaf = 0; leaf <= 1; leaf++) {
    uint32_t regs[4];
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(leaf), "c"(0));
    if (leaf == 1) regs[1] &= 0x00ffffff; /* EBX[31:24] is the initial APIC ID of whichever CPU ran it */
    hl_value args[2] = {hl_u32(leaf), hl_u32(0)};
    hl_result r;
    const emu_run *run;
    bool ok = emu_call(g, "Cpuid", HL_TYPE_BYTES, 2, args, &r, &run);
    CHECK(ok && r.error == HL_ERROR_NONE && r.value.type == HL_TYPE_BYTES && r.value.as.bytes.len == 16, "Cpuid(%u): a 16-byte result",
          leaf);
    if (!ok || r.error || r.value.as.bytes.len != 16) continue;
    uint32_t got[4];
    memcpy(got, r.value.as.bytes.data, 16);
    if (leaf == 1) got[1] &= 0x00ffffff;
    CHECK(!memcmp(got, regs, 16), "Cpuid(%u): %08x %08x %08x %08x, want %08x %08x %08x %08x", leaf, got[0], got[1], got[2], got[3],
          regs[0], regs[1], regs[2], regs[3]);
  }
  emu_free(g);
}

/* Init data "spin-in-init" keeps OP_INIT from ever halting; similar data does not. */
TEST(e2e_spin_in_init) {
  emu_config cfg = {.init_data = "spin-in-init", .init_data_size = 12};
  emu_guest *g = emu_load(getenv("HL_SIMPLEGUEST"), &cfg);
  if (!g) return;
  const emu_run *run = emu_enter(g, HL_OP_INIT, 300);
  CHECK(run->kind == EMU_TIMEOUT, "spin-in-init: kind %d", run->kind);
  emu_free(g);
  cfg.init_data_size = 11; /* "spin-in-ini" */
  g = start(&cfg);
  if (!g) return;
  expect_value(g, "ReadInitData", HL_TYPE_BYTES, 0, NULL, hl_bytes("spin-in-ini", 11));
  emu_free(g);
}

TEST(e2e_call_checks_and_messages) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value two[2] = {hl_string("a"), hl_string("b")};
  hl_value one = hl_i32(1);
  expect_error(g, "NoSuchFunction", HL_TYPE_I32, 0, NULL, HL_ERROR_FUNCTION_NOT_FOUND, "guest function \"NoSuchFunction\" does not exist");
  expect_error(g, "EchoString", HL_TYPE_STRING, 2, two, HL_ERROR_WRONG_ARGUMENT_COUNT,
               "function \"EchoString\" takes 1 argument but was called with 2");
  expect_error(g, "Add", HL_TYPE_I32, 0, NULL, HL_ERROR_WRONG_ARGUMENT_COUNT, "function \"Add\" takes 2 arguments but was called with 0");
  expect_error(g, "EchoString", HL_TYPE_STRING, 1, &one, HL_ERROR_WRONG_ARGUMENT_TYPE,
               "argument 0 of function \"EchoString\" must be string, got i32");
  expect_error(g, "EchoI32", HL_TYPE_STRING, 1, &one, HL_ERROR_WRONG_RETURN_TYPE,
               "function \"EchoI32\" returns i32 but the caller expected string");
  hl_value msg = hl_string("it went wrong");
  expect_error(g, "ReturnError", HL_TYPE_VOID, 1, &msg, HL_ERROR_GUEST_FUNCTION_FAILED, "it went wrong");
  /* Garbage and lying frames are answered, not crashed on. */
  uint8_t junk[64];
  memset(junk, 0xA5, sizeof junk);
  junk[0] = 60, junk[1] = junk[2] = junk[3] = 0;
  emu_write_input(g, junk, sizeof junk);
  const emu_run *run = emu_enter(g, HL_OP_CALL, 5000);
  CHECK(run->kind == EMU_HALT, "garbage input: kind %d (%s)", run->kind, run->abort_message);
  const uint8_t *payload;
  size_t len;
  hl_result r;
  uint32_t mlen;
  CHECK(!hl_wire_frame(emu_output(g), 64 * 1024, &payload, &len) && !hl_wire_decode_result(payload, len, &r, &mlen) &&
            r.error == HL_ERROR_MALFORMED_MESSAGE,
        "garbage input: MalformedMessage expected");
  uint32_t huge = 0xfffffff0u;
  emu_write_input(g, &huge, 4);
  run = emu_enter(g, HL_OP_CALL, 5000);
  CHECK(run->kind == EMU_HALT && !hl_wire_frame(emu_output(g), 64 * 1024, &payload, &len) &&
            !hl_wire_decode_result(payload, len, &r, &mlen) && r.error == HL_ERROR_MALFORMED_MESSAGE,
        "oversized frame: MalformedMessage expected");
  /* The guest still works afterwards. */
  expect_value(g, "Increment", HL_TYPE_I32, 0, NULL, hl_i32(1));
  emu_free(g);
}

TEST(e2e_aborts_and_panics) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_value msg = hl_string("something broke");
  const emu_run *run = expect_abort(g, "Panic", 1, &msg, HL_ABORT_CODE_PANIC);
  CHECK(!strcmp(run->abort_message, "something broke"), "panic message \"%s\"", run->abort_message);
  emu_free(g);

  g = start(NULL);
  hl_value args[2] = {hl_u32(42), hl_string("custom abort")};
  run = expect_abort(g, "Abort", 2, args, 42);
  CHECK(!strcmp(run->abort_message, "custom abort") && run->abort_chunks == 0, "abort message \"%s\"", run->abort_message);
  emu_free(g);

  /* A message longer than the output buffer arrives in ABORT_CHUNK pieces,
   * split only between UTF-8 characters. */
  emu_config small = {.output_size = 4096};
  g = start(&small);
  static char long_msg[10001];
  for (size_t i = 0; i < 10000; i += 2) memcpy(long_msg + i, "\xc3\xa9", 2); /* é x 5000 */
  args[1] = hl_string(long_msg);
  run = expect_abort(g, "Abort", 2, args, 42);
  CHECK(run->abort_message_len == 10000 && !strcmp(run->abort_message, long_msg), "long abort: %zu bytes", run->abort_message_len);
  CHECK(run->abort_chunks >= 2, "long abort: %u chunks", run->abort_chunks);
  emu_free(g);
}

/* Panic and hl_panic/hl_abortf messages longer than their 1 KiB format
 * buffer arrive whole, in ABORT_CHUNK pieces past the output buffer. */
TEST(e2e_long_panics) {
  emu_config small = {.output_size = 4096};
  emu_guest *g = start(&small);
  if (!g) return;
  hl_value n = hl_u32(20000);
  const emu_run *run = expect_abort(g, "PanicLarge", 1, &n, HL_ABORT_CODE_PANIC);
  bool all_x = run->abort_message_len == 20000;
  for (size_t i = 0; all_x && i < 20000; i++) all_x = run->abort_message[i] == 'x';
  CHECK(all_x, "PanicLarge: %zu bytes", run->abort_message_len);
  CHECK(run->abort_chunks >= 4, "PanicLarge: %u chunks", run->abort_chunks);
  emu_free(g);

  g = start(NULL);
  static char text[3001];
  for (size_t i = 0; i < 3000; i++) text[i] = (char)('a' + i % 26);
  hl_value msg = hl_string(text);
  run = expect_abort(g, "Panic", 1, &msg, HL_ABORT_CODE_PANIC);
  CHECK(run->abort_message_len == 3000 && !strcmp(run->abort_message, text), "Panic: %zu bytes", run->abort_message_len);
  emu_free(g);
}

/* Results and host calls bigger than the output buffer fail with MessageTooLarge. */
TEST(e2e_message_too_large) {
  emu_config small = {.output_size = 4096};
  emu_guest *g = start(&small);
  if (!g) return;
  static uint8_t ab[3000];
  memset(ab, 0xAB, sizeof ab);
  hl_value n = hl_u32(3000);
  expect_value(g, "LargeResult", HL_TYPE_BYTES, 1, &n, hl_bytes(ab, sizeof ab));
  n = hl_u32(5000);
  expect_error(g, "LargeResult", HL_TYPE_BYTES, 1, &n, HL_ERROR_MESSAGE_TOO_LARGE,
               "the result of guest function \"LargeResult\" needs 5064 bytes but the output buffer holds 4096");
  hl_result r;
  const emu_run *run;
  n = hl_u32(1000);
  expect_value(g, "CallHostEchoBytesOfSize", HL_TYPE_U32, 1, &n, n);
  CHECK(emu_call(g, "CallHostEchoBytesOfSize", HL_TYPE_U32, 1, &n, &r, &run) && run->host_calls == 1, "one host call");
  n = hl_u32(5000);
  expect_error(g, "CallHostEchoBytesOfSize", HL_TYPE_U32, 1, &n, HL_ERROR_MESSAGE_TOO_LARGE,
               "the call needs 5100 bytes but the output buffer holds 4096");
  CHECK(run->host_calls == 0, "a call too large for the buffer must not reach the host (%u calls)", run->host_calls);
  emu_free(g);
}

TEST(e2e_cpu_faults) {
  emu_guest *g = start(NULL);
  if (!g) return;
  hl_result r;
  const emu_run *run;
  emu_call(g, "Ud2", HL_TYPE_VOID, 0, NULL, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGILL, "Ud2: kind %d signal %d", run->kind, run->signo);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "WriteToReadOnly", HL_TYPE_VOID, 0, NULL, &r, &run);
  uintptr_t lo, hi;
  emu_image_range(g, &lo, &hi);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGSEGV && run->fault_addr >= lo && run->fault_addr < hi,
        "WriteToReadOnly: kind %d signal %d at %#lx", run->kind, run->signo, (unsigned long)run->fault_addr);
  emu_free(g);

  g = start(NULL);
  hl_value seed = hl_u32(7);
  emu_call(g, "StackOverflow", HL_TYPE_VOID, 1, &seed, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->fault_in_stack_guard, "StackOverflow: kind %d guard %d", run->kind, run->fault_in_stack_guard);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "OutUnknownPort", HL_TYPE_VOID, 0, NULL, &r, &run);
  CHECK(run->kind == EMU_UNKNOWN_PORT && run->port == 0x99, "OutUnknownPort: kind %d port %#x", run->kind, run->port);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "Int3", HL_TYPE_VOID, 0, NULL, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGTRAP, "Int3: kind %d signal %d", run->kind, run->signo);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "Hlt", HL_TYPE_VOID, 0, NULL, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGSEGV, "Hlt: kind %d signal %d", run->kind, run->signo);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "NullDeref", HL_TYPE_U64, 0, NULL, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGSEGV && run->fault_addr == 0, "NullDeref: kind %d signal %d at %#lx",
        run->kind, run->signo, (unsigned long)run->fault_addr);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "WriteToCode", HL_TYPE_VOID, 0, NULL, &r, &run);
  emu_image_range(g, &lo, &hi);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGSEGV && run->fault_addr >= lo && run->fault_addr < hi,
        "WriteToCode: kind %d signal %d at %#lx", run->kind, run->signo, (unsigned long)run->fault_addr);
  emu_free(g);

  g = start(NULL);
  emu_call(g, "ExecuteHeap", HL_TYPE_VOID, 0, NULL, &r, &run);
  emu_image_range(g, &lo, &hi);
  CHECK(run->kind == EMU_FAULT && run->signo == SIGSEGV && run->fault_addr != 0 && (run->fault_addr < lo || run->fault_addr >= hi),
        "ExecuteHeap: kind %d signal %d at %#lx", run->kind, run->signo, (unsigned long)run->fault_addr);
  emu_free(g);

  g = start(NULL);
  hl_value port[2] = {hl_u32(0x10099), hl_u32(5)}; /* only the low 16 bits are the port */
  emu_call(g, "OutPort", HL_TYPE_VOID, 2, port, &r, &run);
  CHECK(run->kind == EMU_UNKNOWN_PORT && run->port == 0x99, "OutPort: kind %d port %#x", run->kind, run->port);
  emu_free(g);

  g = start(NULL);
  hl_value depth = hl_u32(100);
  expect_value(g, "StackRecurse", HL_TYPE_U32, 1, &depth, depth);
  depth = hl_u32(1000); /* 1000 1 KiB frames do not fit in 256 KiB */
  emu_call(g, "StackRecurse", HL_TYPE_U32, 1, &depth, &r, &run);
  CHECK(run->kind == EMU_FAULT && run->fault_in_stack_guard, "StackRecurse(1000): kind %d guard %d", run->kind,
        run->fault_in_stack_guard);
  emu_free(g);

  g = start(NULL);
  emu_call_timeout_ms = 300; /* Spin must still be spinning when the budget ends */
  emu_call(g, "Spin", HL_TYPE_VOID, 0, NULL, &r, &run);
  emu_call_timeout_ms = 5000;
  CHECK(run->kind == EMU_TIMEOUT, "Spin: kind %d", run->kind);
  emu_free(g);
}

TEST(e2e_heap) {
  emu_config cfg = {.heap_size = 512 * 1024};
  emu_guest *g = start(&cfg);
  if (!g) return;
  hl_value n = hl_u32(100000);
  for (int i = 0; i < 20; i++) expect_value(g, "AllocateBytes", HL_TYPE_U32, 1, &n, n); /* freed each time */
  n = hl_u32(600000);
  const emu_run *run = expect_abort(g, "AllocateBytes", 1, &n, HL_ABORT_CODE_OUT_OF_MEMORY);
  CHECK(strstr(run->abort_message, "malloc(600000) failed"), "AllocateBytes message \"%s\"", run->abort_message);
  emu_free(g);
  g = start(&cfg);
  run = expect_abort(g, "ExhaustHeap", 0, NULL, HL_ABORT_CODE_OUT_OF_MEMORY);
  size_t total = 0;
  sscanf(run->abort_message, "guest heap exhausted after allocating %zu bytes", &total);
  CHECK(total > 400 * 1024 && total < 512 * 1024, "ExhaustHeap: %s", run->abort_message);
  emu_free(g);
}

TEST(e2e_print_log_init_data) {
  emu_config cfg = {.max_log_level = HL_LOG_INFO};
  emu_guest *g = start(&cfg);
  if (!g) return;
  hl_value text = hl_string("hello from the guest\n");
  hl_result r;
  const emu_run *run;
  expect_value(g, "Print", HL_TYPE_U32, 1, &text, hl_u32(21));
  emu_call(g, "Print", HL_TYPE_U32, 1, &text, &r, &run);
  CHECK(!strcmp(run->printed, "hello from the guest\n") && run->print_frames == 1, "printed \"%s\" in %u frames", run->printed,
        run->print_frames);

  /* stdout is line-buffered: text after the last newline waits for the runtime's flush before the result. */
  text = hl_string("one\ntwo");
  emu_call(g, "Print", HL_TYPE_U32, 1, &text, &r, &run);
  CHECK(!strcmp(run->printed, "one\ntwo") && run->print_frames == 2, "printed \"%s\" in %u frames", run->printed,
        run->print_frames);
  text = hl_string("no newline");
  emu_call(g, "Print", HL_TYPE_U32, 1, &text, &r, &run);
  CHECK(!strcmp(run->printed, "no newline") && run->print_frames == 1, "printed \"%s\" in %u frames", run->printed,
        run->print_frames);

  static const uint8_t bytes[] = {0xde, 0xad, 0x01};
  hl_value eleven[11] = {hl_string("one"), hl_i32(-2), hl_i64(-3000000000LL), hl_u32(4), hl_u64(5000000000ULL),
                         hl_f32(6.5f), hl_f64(7.25), hl_bool(true), hl_string("nine"), hl_i32(10), hl_bytes(bytes, 3)};
  const char *want = "one -2 -3000000000 4 5000000000 6.500 7.250 true nine 10 dead01";
  expect_value(g, "PrintElevenArgs", HL_TYPE_STRING, 11, eleven, hl_string(want));
  emu_call(g, "PrintElevenArgs", HL_TYPE_STRING, 11, eleven, &r, &run);
  CHECK(!strcmp(run->printed, want), "PrintElevenArgs printed \"%s\"", run->printed);

  hl_value log_args[2] = {hl_u32(HL_LOG_WARN), hl_string("a warning")};
  emu_call(g, "Log", HL_TYPE_VOID, 2, log_args, &r, &run);
  CHECK(run->log_count == 1 && run->log_flushes == 0, "Log: %u records, %u flushes", run->log_count, run->log_flushes);
  if (run->log_count == 1) {
    const emu_log *l = &run->logs[0];
    CHECK(l->level == HL_LOG_WARN && !strcmp(l->message, "a warning") && !strcmp(l->target, "guest") &&
              strstr(l->file, "simpleguest/main.c") && l->line > 0,
          "record: level %u \"%s\" target \"%s\" %s:%u", l->level, l->message, l->target, l->file, l->line);
  }
  log_args[0] = hl_u32(HL_LOG_DEBUG); /* below max_log_level: dropped */
  emu_call(g, "Log", HL_TYPE_VOID, 2, log_args, &r, &run);
  CHECK(run->log_count == 0, "Debug record should be dropped");

  expect_value(g, "ReadInitData", HL_TYPE_BYTES, 0, NULL, hl_bytes(init_blob, sizeof init_blob));
  emu_free(g);
}
