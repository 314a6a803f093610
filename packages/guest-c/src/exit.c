/*
 * Exits: the one `out` helper, text frames, printing, halting and aborting.
 * Every exit except LOG_FLUSH first flushes stdio (see hl_stdio_flush) so
 * printed text reaches the host before what the exit reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../libc/src/stdio_internal.h"
#include "runtime.h"
#include "trace_rt.h"

const hl_peb *hl_rt_peb;

void hl_outl(uint16_t port, uint32_t value) {
  /* "memory": the host reads guest memory at the exit and may write it
   * (input buffer, log header) before resuming, so no access may move across. */
  __asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

size_t hl_rt_utf8_cut(const char *text, size_t len, size_t max) {
  if (len <= max) return len;
  size_t cut = max;
  /* Back up over continuation bytes (10xxxxxx) so no character is split;
   * give up after 3 (invalid input) rather than emit nothing. */
  for (int i = 0; i < 3 && cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80; i++) cut--;
  return cut ? cut : max;
}

/* Writes one text frame to the output buffer; returns the bytes taken. */
static size_t put_frame(const char *text, size_t len) {
  uint8_t *out = (uint8_t *)(uintptr_t)hl_rt_peb->output_gva;
  size_t cap = hl_rt_peb->output_size - HL_FRAME_HEADER_SIZE;
  size_t n = hl_rt_utf8_cut(text, len, cap);
  uint32_t n32 = (uint32_t)n;
  memcpy(out, &n32, 4);
  memcpy(out + HL_FRAME_HEADER_SIZE, text, n);
  return n;
}

/* Sends `len` bytes as frames: all but the last through `more_port`, the last
 * through `last_port` with `last_value`. */
static void send_text(const char *text, size_t len, uint16_t more_port, uint16_t last_port, uint32_t last_value) {
  for (;;) {
    size_t n = put_frame(text, len);
    text += n;
    len -= n;
    if (!len || n == 0) break;
    hl_outl(more_port, 0);
  }
  hl_outl(last_port, last_value);
}

void hl_rt_print_raw(const char *text, size_t len) {
  if (!hl_rt_peb || !len) return;
  send_text(text, len, HL_PORT_DEBUG_PRINT, HL_PORT_DEBUG_PRINT, 0);
}

void hl_print_n(const char *text, size_t len) {
  hl_stdio_flush();
  hl_rt_print_raw(text, len);
}

void hl_print(const char *text) { hl_print_n(text, strlen(text)); }

void hl_rt_halt(void) {
  hl_rt_trace_close_all();
  hl_outl(HL_PORT_HALT, 0);
  /* The host never resumes after HALT; if it did, fault loudly. */
  __builtin_trap();
}

void hl_abort(uint32_t code, const char *message) {
  static bool aborting;
  if (!aborting) { /* an abort from inside the flush must not flush again */
    aborting = true;
    hl_stdio_flush();
    hl_rt_trace_close_all();
  }
  if (!message) message = "";
  if (hl_rt_peb) send_text(message, strlen(message), HL_PORT_ABORT_CHUNK, HL_PORT_ABORT, code);
  else hl_outl(HL_PORT_ABORT, code); /* no trustworthy output buffer to put text in */
  __builtin_trap();
}

/* Formats into a 1 KiB stack buffer first; a longer message is formatted
 * again into heap memory so it arrives whole (the run is ending, so it is
 * never freed). Only when the heap cannot hold it is the message cut to 1 KiB. */
static HL_NORETURN void abort_vf(uint32_t code, const char *fmt, va_list ap) {
  char text[1024];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(text, sizeof text, fmt, ap);
  if (n >= (int)sizeof text) {
    char *whole = malloc((size_t)n + 1);
    if (whole) {
      vsnprintf(whole, (size_t)n + 1, fmt, again);
      va_end(again);
      hl_abort(code, whole);
    }
  }
  va_end(again);
  hl_abort(code, text);
}

void hl_abortf(uint32_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  abort_vf(code, fmt, ap);
}

void hl_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  abort_vf(HL_ABORT_CODE_PANIC, fmt, ap);
}
