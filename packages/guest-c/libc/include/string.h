/**
 * @file string.h
 * Memory and string functions of the hyperlight-ts guest libc (freestanding
 * subset; every function behaves as ISO C describes).
 */
#ifndef HL_LIBC_STRING_H
#define HL_LIBC_STRING_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Copies `n` bytes; the areas must not overlap. @returns `dst`. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
/** Copies `n` bytes; the areas may overlap. @returns `dst`. */
void *memmove(void *dst, const void *src, size_t n);
/** Fills `n` bytes with `(unsigned char)c`. @returns `dst`. */
void *memset(void *dst, int c, size_t n);
/** Compares `n` bytes as unsigned char. @returns <0, 0 or >0. */
int memcmp(const void *a, const void *b, size_t n);
/** @returns the first byte equal to `(unsigned char)c` in `n` bytes, or NULL. */
void *memchr(const void *s, int c, size_t n);
/** @returns the length of `s` in bytes, without the NUL. */
size_t strlen(const char *s);
/** @returns the length of `s`, but at most `max`. */
size_t strnlen(const char *s, size_t max);
/** Compares two strings as unsigned char. */
int strcmp(const char *a, const char *b);
/** Compares at most `n` bytes of two strings. */
int strncmp(const char *a, const char *b, size_t n);
/** Copies `src` with its NUL. @returns `dst`. */
char *strcpy(char *restrict dst, const char *restrict src);
/** Copies at most `n` bytes of `src` and pads with NULs up to `n` (no NUL if `src` is longer). */
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
/** Appends `src` to `dst`. @returns `dst`. */
char *strcat(char *restrict dst, const char *restrict src);
/** Appends at most `n` bytes of `src` and a NUL. @returns `dst`. */
char *strncat(char *restrict dst, const char *restrict src, size_t n);
/** @returns the first `(char)c` in `s` (the NUL counts), or NULL. */
char *strchr(const char *s, int c);
/** @returns the last `(char)c` in `s` (the NUL counts), or NULL. */
char *strrchr(const char *s, int c);
/** @returns the first occurrence of `needle` in `haystack` (`haystack` if `needle` is empty), or NULL. */
char *strstr(const char *haystack, const char *needle);
/** @returns the length of the prefix of `s` made of bytes in `accept`. */
size_t strspn(const char *s, const char *accept);
/** @returns the length of the prefix of `s` made of bytes not in `reject`. */
size_t strcspn(const char *s, const char *reject);
/** @returns a malloc'ed copy of `s`, or NULL when the heap is exhausted. */
char *strdup(const char *s);
/** @returns a malloc'ed copy of at most `n` bytes of `s` plus a NUL, or NULL. */
char *strndup(const char *s, size_t n);
/** @returns a fixed English description of an errno value. */
char *strerror(int errnum);

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_STRING_H */
