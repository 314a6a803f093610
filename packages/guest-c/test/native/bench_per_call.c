/*
 * The C runtime's per-call work, timed natively: decode the FunctionCall in
 * the input buffer, check it, run the guest function, encode the
 * FunctionCallResult into the output buffer and free the run memory
 * (hl_rt_call, OP_CALL short of its HALT `out`).
 *
 * Built by test/bench-per-call.mjs against libhyperlight_guest.a with every
 * symbol prefixed hlt_ (as the unit tests treat the libc): the timed code is
 * the library guests link, its heap and mem* functions included. This file is
 * compiled natively and plays the host: it lays out a PEB, registers a table
 * as large as the simpleguest's with the measured functions last, writes
 * each call once and runs it in a loop.
 *
 * Prints one JSON line: the table size and, per case, samples in
 * nanoseconds per call, each the mean of a batch of calls.
 * HYPERLIGHT_BENCH_SAMPLES and HYPERLIGHT_BENCH_BATCH override the default
 * 200 samples of 1000 calls.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The runtime's names as the prefixed library spells them. */
#define hyperlight_main hlt_hyperlight_main
#define hl_register_function hlt_hl_register_function
#define hl_heap_init hlt_hl_heap_init
#define hl_rt_peb hlt_hl_rt_peb
#define hl_rt_call hlt_hl_rt_call
#define hl_rt_registry_open hlt_hl_rt_registry_open
#define hl_rt_registry_publish hlt_hl_rt_registry_publish
#define hl_wire_encode_call hlt_hl_wire_encode_call
#define hl_wire_frame hlt_hl_wire_frame
#define hl_wire_decode_result hlt_hl_wire_decode_result

#include "../../libc/src/heap.h"
#include "../../src/runtime.h"
#include "../../src/wire.h"
#include "bench_util.h"

#define BUFFER_SIZE 8192
#define HEAP_SIZE (1u << 20)
/* The simpleguest publishes 71 functions. */
#define TABLE_SIZE 71
#define STRING_CHARS 1000
#define BYTES_SIZE 1024

static uint8_t *input, *output;

static hl_result echo(const hl_call *call) { return hl_ok(call->args[0]); }
static hl_result void_function(const hl_call *call) {
  (void)call;
  return hl_ok(hl_void());
}

void hyperlight_main(void) {
  char name[32];
  for (int i = 0; i < TABLE_SIZE - 4; i++) {
    snprintf(name, sizeof name, "Filler%02d", i);
    hl_register_function(name, void_function, HL_TYPE_VOID, 0);
  }
  hl_register_function("EchoI32", echo, HL_TYPE_I32, 1, HL_TYPE_I32);
  hl_register_function("VoidFunction", void_function, HL_TYPE_VOID, 0);
  hl_register_function("EchoString", echo, HL_TYPE_STRING, 1, HL_TYPE_STRING);
  hl_register_function("EchoBytes", echo, HL_TYPE_BYTES, 1, HL_TYPE_BYTES);
}

/* The runtime's only way out is `out`, which faults in a process: it aborted. */
static void on_exit_attempt(int signo) {
  (void)signo;
  uint32_t n;
  memcpy(&n, output, 4);
  if (n > BUFFER_SIZE - 4) n = 0;
  static const char what[] = "bench_per_call: the runtime exited: ";
  if (write(2, what, sizeof what - 1) < 0 || write(2, output + 4, n) < 0 || write(2, "\n", 1) < 0) _exit(3);
  _exit(2);
}

/* Whether the output buffer holds `want` as a successful result. */
static bool result_is(const hl_value *want) {
  const uint8_t *payload;
  size_t len;
  hl_result r;
  uint32_t message_len;
  if (hl_wire_frame(output, BUFFER_SIZE, &payload, &len) || hl_wire_decode_result(payload, len, &r, &message_len))
    return false;
  if (r.error != HL_ERROR_NONE || r.value.type != want->type) return false;
  switch (want->type) {
    case HL_TYPE_I32: return r.value.as.i32 == want->as.i32;
    case HL_TYPE_STRING:
      return r.value.as.string.len == want->as.string.len &&
             !memcmp(r.value.as.string.data, want->as.string.data, want->as.string.len);
    case HL_TYPE_BYTES:
      return r.value.as.bytes.len == want->as.bytes.len &&
             !memcmp(r.value.as.bytes.data, want->as.bytes.data, want->as.bytes.len);
    default: return true;
  }
}

int main(void) {
  unsigned samples = env_count("HYPERLIGHT_BENCH_SAMPLES", 200);
  unsigned batch = env_count("HYPERLIGHT_BENCH_BATCH", 1000);
  input = aligned_alloc(4096, BUFFER_SIZE);
  output = aligned_alloc(4096, BUFFER_SIZE);
  void *heap = aligned_alloc(4096, HEAP_SIZE);
  double *ns = malloc(samples * sizeof *ns);
  static hl_peb peb;
  peb.magic = HL_PEB_MAGIC;
  peb.abi_version = HL_ABI_VERSION;
  peb.input_gva = (uintptr_t)input, peb.input_size = BUFFER_SIZE;
  peb.output_gva = (uintptr_t)output, peb.output_size = BUFFER_SIZE;
  peb.heap_gva = (uintptr_t)heap, peb.heap_size = HEAP_SIZE;
  peb.max_log_level = HL_LOG_OFF;
  signal(SIGSEGV, on_exit_attempt);

  /* OP_INIT's work, short of its exit. */
  hl_rt_peb = &peb;
  hl_heap_init(heap, HEAP_SIZE);
  hl_rt_registry_open();
  hyperlight_main();
  hl_rt_registry_publish();

  static char text[STRING_CHARS];
  static uint8_t bytes[BYTES_SIZE];
  memset(text, 'a', sizeof text);
  memset(bytes, 7, sizeof bytes);
  const struct {
    const char *label, *function;
    hl_value value;
  } cases[] = {
      {"EchoI32", "EchoI32", hl_i32(42)},
      {"VoidFunction", "VoidFunction", hl_void()},
      {"EchoString 1000 chars", "EchoString", hl_string_n(text, sizeof text)},
      {"EchoBytes 1 KiB", "EchoBytes", hl_bytes(bytes, sizeof bytes)},
  };

  printf("{\"functions\":%d,\"samples\":{", TABLE_SIZE);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const hl_value *v = &cases[c].value;
    size_t argc = v->type == HL_TYPE_VOID ? 0 : 1;
    if (!hl_wire_encode_call(input, BUFFER_SIZE, cases[c].function, strlen(cases[c].function), v, argc, v->type)) {
      fprintf(stderr, "bench_per_call: %s does not fit the input buffer\n", cases[c].label);
      return 1;
    }
    hl_rt_call();
    if (!result_is(v)) {
      fprintf(stderr, "bench_per_call: %s did not echo its argument\n", cases[c].label);
      return 1;
    }
    for (unsigned s = 0; s < samples; s++) {
      double start = now_ns();
      for (unsigned i = 0; i < batch; i++) hl_rt_call();
      ns[s] = (now_ns() - start) / batch;
    }
    printf("%s\"%s\":[", c ? "," : "", cases[c].label);
    for (unsigned s = 0; s < samples; s++) printf("%s%.1f", s ? "," : "", ns[s]);
    printf("]");
  }
  printf("}}\n");
  return 0;
}
