/**
 * @file stdio.h
 * Formatted output. stdout and stderr both go to the host's print function
 * (DEBUG_PRINT exits); output is buffered and flushed at a newline, when the
 * buffer is full and before every other exit (host call, halt, abort).
 *
 * Conversions: %d %i %u %x %X %o %c %s %p %f %F %e %E %g %G %% with flags
 * `-+ #0`, width and precision (also `*`) and length modifiers hh h l ll z j t
 * (and L for long double, printed with double precision). %n is not supported.
 */
#ifndef HL_LIBC_STDIO_H
#define HL_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An output stream; only stdout and stderr exist. */
typedef struct hl_file FILE;

/** Standard output (to the host's print function). */
extern FILE *const stdout;
/** Standard error (same destination as stdout). */
extern FILE *const stderr;

#define EOF (-1) /**< Returned on failure. */

/** Formats to stdout. @returns the number of bytes written. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** printf with a va_list. */
int vprintf(const char *fmt, va_list ap);
/** Formats to a stream. */
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** fprintf with a va_list. */
int vfprintf(FILE *f, const char *fmt, va_list ap);
/**
 * Formats into `buf`, writing at most `size` bytes including the NUL.
 * @returns the length the full output would have (excluding the NUL).
 */
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...) __attribute__((format(printf, 3, 4)));
/** snprintf with a va_list. */
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
/** Formats into `buf` without a size limit (prefer snprintf). */
int sprintf(char *restrict buf, const char *restrict fmt, ...) __attribute__((format(printf, 2, 3)));
/** sprintf with a va_list. */
int vsprintf(char *restrict buf, const char *restrict fmt, va_list ap);
/** Writes `s` and a newline to stdout. @returns a non-negative number. */
int puts(const char *s);
/** Writes one byte to stdout. @returns it as unsigned char. */
int putchar(int c);
/** Writes a string to a stream (no newline added). */
int fputs(const char *s, FILE *f);
/** Writes one byte to a stream. */
int fputc(int c, FILE *f);
/** Same as fputc. */
int putc(int c, FILE *f);
/** Writes `n` items of `size` bytes. @returns `n`. */
size_t fwrite(const void *restrict p, size_t size, size_t n, FILE *restrict f);
/** Sends buffered output to the host now (NULL flushes all streams). @returns 0. */
int fflush(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_STDIO_H */
