/* Native stand-ins for the runtime functions the guest libc calls
 * (prefixed like the libc objects): printing is captured, aborts unwind to
 * hlt_catch_abort with longjmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlt.h"

char hlt_printed[65536];
size_t hlt_printed_len;
unsigned hlt_prints;
uint32_t hlt_abort_code;
char hlt_abort_message[4096];
static jmp_buf *abort_target;

/* Tracing as the allocator sees it (trace.c is not linked here): always off. */
uint8_t hlt_hl_rt_trace_flags;
void hlt_hl_rt_trace_memory(uint8_t kind, const void *address, size_t size, void *const *frame) {
  (void)kind, (void)address, (void)size, (void)frame;
}

void hlt_hl_print_n(const char *text, size_t len) {
  hlt_prints++;
  if (len > sizeof hlt_printed - hlt_printed_len) len = sizeof hlt_printed - hlt_printed_len;
  memcpy(hlt_printed + hlt_printed_len, text, len);
  hlt_printed_len += len;
}

__attribute__((noreturn)) void hlt_hl_abort(uint32_t code, const char *message) {
  hlt_abort_code = code;
  snprintf(hlt_abort_message, sizeof hlt_abort_message, "%s", message ? message : "");
  if (!abort_target) {
    fprintf(stderr, "unexpected abort %#x: %s\n", code, hlt_abort_message);
    exit(2);
  }
  longjmp(*abort_target, 1);
}

__attribute__((noreturn)) void hlt_hl_panic(const char *fmt, ...) {
  char text[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  hlt_hl_abort(0x80000001u, text);
}

int hlt_catch_abort(void (*fn)(void *), void *arg) {
  jmp_buf here;
  jmp_buf *saved = abort_target;
  abort_target = &here;
  if (setjmp(here)) {
    abort_target = saved;
    return 1;
  }
  fn(arg);
  abort_target = saved;
  return 0;
}
