/*
 * <stdio.h>: string formatting and the stdout/stderr streams. Both streams
 * share one buffer that goes to the host with DEBUG_PRINT (hl_print_n), at a
 * newline, when full, and before every other exit (the runtime calls
 * hl_stdio_flush), so prints keep their order relative to host calls.
 */
#include <hyperlight/guest.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "stdio_internal.h"

struct hl_file {
  int fd;
};

static struct hl_file out_file = {1}, err_file = {2};
FILE *const stdout = &out_file;
FILE *const stderr = &err_file;

static char out_buf[512];
static size_t out_len;

void hl_stdio_flush(void) {
  size_t n = out_len;
  out_len = 0; /* first, so a print that fails and aborts cannot recurse here */
  if (n) hl_print_n(out_buf, n);
}

static void stream_write(const char *p, size_t n) {
  while (n) {
    size_t k = sizeof out_buf - out_len;
    if (k > n) k = n;
    memcpy(out_buf + out_len, p, k);
    out_len += k;
    p += k;
    n -= k;
    if (out_len == sizeof out_buf) hl_stdio_flush();
  }
  if (out_len && memchr(out_buf, '\n', out_len)) hl_stdio_flush();
}

static void stream_sink_write(hl_sink *s, const char *p, size_t n) {
  (void)s;
  stream_write(p, n);
}

int vfprintf(FILE *f, const char *fmt, va_list ap) {
  (void)f;
  hl_sink s = {stream_sink_write, 0};
  return hl_vformat(&s, fmt, ap);
}

int vprintf(const char *fmt, va_list ap) { return vfprintf(stdout, fmt, ap); }

int fprintf(FILE *f, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(f, fmt, ap);
  va_end(ap);
  return n;
}

int printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vfprintf(stdout, fmt, ap);
  va_end(ap);
  return n;
}

typedef struct buf_sink {
  hl_sink base;
  char *buf;
  size_t cap; /* bytes available for text; one more is kept for the NUL */
  size_t len;
} buf_sink;

static void buf_sink_write(hl_sink *s, const char *p, size_t n) {
  buf_sink *b = (buf_sink *)s;
  size_t k = b->cap - b->len;
  if (k > n) k = n;
  memcpy(b->buf + b->len, p, k);
  b->len += k;
}

int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap) {
  buf_sink s = {{buf_sink_write, 0}, buf, size ? size - 1 : 0, 0};
  int n = hl_vformat(&s.base, fmt, ap);
  if (size) buf[s.len] = 0;
  return n;
}

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap) {
  return vsnprintf(buf, (size_t)-1 / 2, fmt, ap);
}

int sprintf(char *restrict buf, const char *restrict fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsprintf(buf, fmt, ap);
  va_end(ap);
  return n;
}

int fputs(const char *s, FILE *f) {
  (void)f;
  stream_write(s, strlen(s));
  return 0;
}

int puts(const char *s) {
  size_t n = strlen(s);
  stream_write(s, n);
  stream_write("\n", 1);
  return (int)(n + 1);
}

int fputc(int c, FILE *f) {
  (void)f;
  char ch = (char)c;
  stream_write(&ch, 1);
  return (unsigned char)c;
}

int putc(int c, FILE *f) { return fputc(c, f); }
int putchar(int c) { return fputc(c, stdout); }

size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f) {
  (void)f;
  stream_write(p, size * n);
  return n;
}

int fflush(FILE *f) {
  (void)f;
  hl_stdio_flush();
  return 0;
}
