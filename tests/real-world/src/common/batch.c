/* Request/response framing of batches (see batch.h) and the byte buffer. */
#include "batch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/** Size of a request record's header: op, arg, len. */
#define REQUEST_HEADER_BYTES 9u

int rw_put(rw_buffer *b, const void *p, size_t n) {
  if (b->failed) return -1;
  if (n > b->cap - b->len) {
    size_t cap = b->cap ? b->cap : 256;
    while (n > cap - b->len) {
      if (cap > SIZE_MAX / 2) {
        b->failed = 1;
        return -1;
      }
      cap *= 2;
    }
    uint8_t *grown = realloc(b->data, cap);
    if (!grown) {
      b->failed = 1;
      return -1;
    }
    b->data = grown;
    b->cap = cap;
  }
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int rw_puts(rw_buffer *b, const char *s) { return rw_put(b, s, strlen(s)); }

int rw_printf(rw_buffer *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return -1;
  }
  if ((size_t)n < sizeof small) return rw_put(b, small, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->failed = 1;
    return -1;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  int rc = rw_put(b, big, (size_t)n);
  free(big);
  return rc;
}

int rw_put_u32(rw_buffer *b, uint32_t v) {
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return rw_put(b, le, sizeof le);
}

void rw_free(rw_buffer *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

rw_batch_error rw_batch_run(const uint8_t *request, size_t len, rw_op_fn op, rw_buffer *out) {
  size_t at = 0;
  while (at < len) {
    if (len - at < REQUEST_HEADER_BYTES) return RW_BATCH_MALFORMED;
    uint8_t code = request[at];
    uint32_t arg = read_u32(request + at + 1);
    uint32_t size = read_u32(request + at + 5);
    at += REQUEST_HEADER_BYTES;
    if (size > len - at) return RW_BATCH_MALFORMED;

    rw_buffer result = {0};
    uint32_t status = op(code, arg, request + at, size, &result);
    at += size;
    int failed = result.failed || result.len > UINT32_MAX;
    if (!failed) failed = rw_put_u32(out, status) || rw_put_u32(out, (uint32_t)result.len) || rw_put(out, result.data, result.len);
    rw_free(&result);
    if (failed) return RW_BATCH_NO_MEMORY;
  }
  return RW_BATCH_OK;
}

const char *rw_batch_error_text(rw_batch_error error) {
  switch (error) {
  case RW_BATCH_OK: return "ok";
  case RW_BATCH_MALFORMED: return "malformed batch request";
  case RW_BATCH_NO_MEMORY: return "out of memory building the batch response";
  }
  return "unknown batch error";
}
