/*
 * The guest-side cost of tracing, timed natively: a span opened and closed,
 * an event, both with tracing enabled, and the one-branch check that is all
 * a traced guest pays when the host records nothing.
 *
 * Built by test/bench-tracing.mjs against libhyperlight_guest.a with every
 * symbol prefixed hlt_ (as test/native/bench_per_call.c). This file plays
 * the host: it lays out a PEB with a trace area, enters the settings with
 * the runtime's own hl_rt_trace_begin, and drains the area (resets `used`)
 * between batches so no TRACE_FLUSH exit is ever needed.
 *
 * Prints one JSON line: per case, samples in nanoseconds per operation, each
 * the mean of a batch. HYPERLIGHT_BENCH_SAMPLES and HYPERLIGHT_BENCH_BATCH
 * override the default 200 samples of 1000 operations.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The runtime's names as the prefixed library spells them. */
#define hyperlight_main hlt_hyperlight_main
#define hl_rt_peb hlt_hl_rt_peb
#define hl_rt_trace_begin hlt_hl_rt_trace_begin
#define hl_trace_min_level hlt_hl_trace_min_level
#define hl_trace_span_open hlt_hl_trace_span_open
#define hl_trace_span_close hlt_hl_trace_span_close
#define hl_trace_event hlt_hl_trace_event
#define hl_trace_enabled hlt_hl_trace_enabled

#define HL_TRACE
#define HL_TRACE_TARGET "bench"
#include "../../src/runtime.h"
#include "../../src/trace_rt.h"
#include "bench_util.h"

#define AREA_SIZE (1u << 20)

void hyperlight_main(void) {}

static uint8_t *area;
static hl_peb peb;

/* Enters a run with these settings, as hl_entry does. */
static void settings(uint8_t level, uint8_t flags) {
  memset(area, 0, HL_TRACE_HEADER_SIZE);
  area[HL_TRACE_OFFSET_LEVEL] = level;
  area[HL_TRACE_OFFSET_FLAGS] = flags;
  hl_rt_trace_begin(&peb, HL_OP_CALL);
}

static uint32_t used(void) {
  uint32_t u;
  memcpy(&u, area + HL_TRACE_OFFSET_USED, 4);
  return u;
}

static void span(unsigned i) {
  hl_trace_span s = HL_SPAN_BEGIN(HL_LOG_INFO, "level", HL_FIELD_I64("depth", i));
  HL_SPAN_END(s);
}
static void event(unsigned i) { HL_EVENT(HL_LOG_INFO, "fill %u", i); }
static void event_field(unsigned i) { HL_EVENT_FIELDS(HL_LOG_INFO, HL_FIELDS(HL_FIELD_I64("depth", i)), "bottom"); }
static void baseline(unsigned i) {
  (void)i;
  __asm__ volatile("" ::: "memory");
}
static void off(unsigned i) {
  __asm__ volatile("" ::: "memory"); /* re-read the threshold every time, as after any call */
  HL_EVENT(HL_LOG_INFO, "fill %u", i);
}

int main(void) {
  unsigned samples = env_count("HYPERLIGHT_BENCH_SAMPLES", 200);
  unsigned batch = env_count("HYPERLIGHT_BENCH_BATCH", 1000);
  area = aligned_alloc(4096, AREA_SIZE);
  peb.trace_gva = (uintptr_t)area, peb.trace_size = AREA_SIZE;
  hl_rt_peb = &peb;
  double *ns = malloc(samples * sizeof *ns);
  const struct {
    const char *label;
    void (*op)(unsigned);
    uint8_t level, flags;
    uint32_t bytes; /* what one operation must append */
  } cases[] = {
      {"span open+close (1 field)", span, HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, 56 + 16},
      {"event (formatted message)", event, HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, 0},
      {"event (1 field)", event_field, HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, 56},
      {"event filtered out by level", event, HL_LOG_WARN, HL_TRACE_FLAG_ENABLED, 0},
      {"disabled check (flags 0)", off, HL_LOG_TRACE, 0, 0},
      {"baseline (the loop and call alone)", baseline, HL_LOG_TRACE, 0, 0},
  };
  printf("{\"samples\":{");
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    settings(cases[c].level, cases[c].flags);
    uint32_t before = used();
    cases[c].op(1);
    uint32_t appended = used() - before;
    bool recorded = cases[c].level == HL_LOG_TRACE && (cases[c].flags & HL_TRACE_FLAG_ENABLED);
    if ((recorded ? appended == 0 : appended != 0) || (cases[c].bytes && appended != cases[c].bytes) ||
        (size_t)appended * batch > AREA_SIZE - HL_TRACE_HEADER_SIZE) {
      fprintf(stderr, "bench_tracing: %s appended %u bytes\n", cases[c].label, appended);
      return 1;
    }
    for (unsigned s = 0; s < samples; s++) {
      memset(area, 0, 8); /* the host's drain */
      double start = now_ns();
      for (unsigned i = 0; i < batch; i++) cases[c].op(i);
      ns[s] = (now_ns() - start) / batch;
    }
    printf("%s\"%s\":[", c ? "," : "", cases[c].label);
    for (unsigned s = 0; s < samples; s++) printf("%s%.2f", s ? "," : "", ns[s]);
    printf("]");
  }
  printf("}}\n");
  return 0;
}
