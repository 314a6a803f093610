/* Internal interface of the printf engine (format.c). */
#ifndef HL_FORMAT_H
#define HL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/** Where formatted bytes go; `write` receives every chunk in order. */
typedef struct hl_sink {
  void (*write)(struct hl_sink *s, const char *p, size_t n);
  size_t count; /* bytes produced so far */
} hl_sink;

/** Formats `fmt` into `s`. @returns s->count as int, or -1 past INT_MAX. */
int hl_vformat(hl_sink *s, const char *fmt, va_list ap);

#endif /* HL_FORMAT_H */
