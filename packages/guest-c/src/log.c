/*
 * Logging into the PEB's log area (docs/abi.md "Log area"):
 *
 *   offset 0: u32 used bytes U; offset 4: size-prefixed LogRecords, each
 *   padded to 4 bytes.
 *
 * Records are appended in place and cost no exit: the host drains the area on
 * every exit and resets U to 0. Only when a record does not fit does the
 * guest exit with LOG_FLUSH and then write it at U = 0. U is re-read before
 * every append because the host changes it at any exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "wire.h"

bool hl_log_enabled(hl_log_level level) {
  const hl_peb *p = hl_rt_peb;
  return p && p->log_size >= 8 && (uint64_t)level >= p->max_log_level && level < HL_LOG_OFF;
}

/* Tries to append one record; false if it does not fit in the free space. */
static bool append(hl_log_level level, const char *msg, size_t len, const char *target, const char *file, uint32_t line) {
  uint8_t *area = (uint8_t *)(uintptr_t)hl_rt_peb->log_gva;
  size_t size = hl_rt_peb->log_size;
  uint32_t used;
  memcpy(&used, area, 4);
  /* A U the guest never wrote (host bug): drop the batch, keep the area usable. */
  if (used > size - 4 || (used & 3)) used = 0;
  size_t n = hl_wire_encode_log(area + 4 + used, size - 4 - used, level, msg, len, target, file, line);
  if (!n) return false;
  /* hl_fb_finish already pads to the buffer's alignment (4 for LogRecord). */
  used += (uint32_t)((n + 3) & ~(size_t)3);
  memcpy(area, &used, 4);
  return true;
}

static void write_record(hl_log_level level, const char *msg, size_t len, const char *target, const char *file,
                         uint32_t line) {
  if (append(level, msg, len, target, file, line)) return;
  hl_outl(HL_PORT_LOG_FLUSH, 0); /* area full: the host drains it and resets U */
  if (append(level, msg, len, target, file, line)) return;
  /* Larger than the whole area: shorten the message until it fits (the
   * first guess allows for the record's tables and the other strings). */
  size_t room = hl_rt_peb->log_size;
  size_t overhead = 128 + (target ? strlen(target) : 0) + (file ? strlen(file) : 0);
  for (size_t max = room > overhead ? room - overhead : 0; max > 0; max = max > 64 ? max - 64 : 0) {
    len = hl_rt_utf8_cut(msg, len, max);
    if (append(level, msg, len, target, file, line)) return;
  }
}

void hl_vlog(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, va_list ap) {
  if (!hl_log_enabled(level)) return;
  char small[256];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof small) {
    write_record(level, small, (size_t)n, target, file, line);
  } else {
    char *big = malloc((size_t)n + 1); /* long message: format again in full */
    if (big) {
      vsnprintf(big, (size_t)n + 1, fmt, again);
      write_record(level, big, (size_t)n, target, file, line);
      free(big);
    } else {
      write_record(level, small, hl_rt_utf8_cut(small, sizeof small - 1, sizeof small - 1), target, file, line);
    }
  }
  va_end(again);
}

void hl_log(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hl_vlog(level, target, file, line, fmt, ap);
  va_end(ap);
}
