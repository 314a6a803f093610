/**
 * @file stdlib.h
 * Allocation on the guest heap, number parsing, sorting and abort.
 */
#ifndef HL_LIBC_STDLIB_H
#define HL_LIBC_STDLIB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EXIT_SUCCESS 0 /**< Conventional success status. */
#define EXIT_FAILURE 1 /**< Conventional failure status. */
/** Largest value rand() returns. */
#define RAND_MAX 2147483647

/** Quotient and remainder of div(). */
typedef struct { int quot; int rem; } div_t;
/** Quotient and remainder of ldiv(). */
typedef struct { long quot; long rem; } ldiv_t;

/**
 * Allocates `size` bytes aligned to 16 from the guest heap (the PEB's heap
 * area). @returns NULL when the heap is exhausted (errno = ENOMEM).
 */
void *malloc(size_t size);
/** Allocates `n * size` zeroed bytes; NULL on overflow or exhaustion. */
void *calloc(size_t n, size_t size);
/**
 * Resizes `p` (in place when the neighbouring block is free). `realloc(NULL, n)`
 * is malloc; `realloc(p, 0)` frees `p` and returns NULL. On failure `p` is kept.
 */
void *realloc(void *p, size_t size);
/** Returns `p` to the heap, merging it with free neighbours. NULL is ignored; invalid pointers abort. */
void free(void *p);
/** Allocates `size` bytes aligned to `align` (a power of two). */
void *aligned_alloc(size_t align, size_t size);

/** Aborts the guest with HL_ABORT_CODE_PANIC ("abort() called"). */
__attribute__((noreturn)) void abort(void);

/** Parses a decimal int (like strtol, without error reporting). */
int atoi(const char *s);
/** Parses a decimal long. */
long atol(const char *s);
/** Parses a decimal long long. */
long long atoll(const char *s);
/** Parses a double (see strtod). */
double atof(const char *s);
/**
 * Parses an integer in `base` (2-36, or 0 for C prefixes 0x/0) after optional
 * spaces and sign. Out-of-range values clamp and set errno = ERANGE.
 * `*end` (if not NULL) receives the first unparsed character.
 */
long strtol(const char *s, char **end, int base);
/** Unsigned long version of strtol (a '-' negates, as ISO C says). */
unsigned long strtoul(const char *s, char **end, int base);
/** Long long version of strtol. */
long long strtoll(const char *s, char **end, int base);
/** Unsigned long long version of strtoul. */
unsigned long long strtoull(const char *s, char **end, int base);
/**
 * Parses a decimal floating-point number (with exponent), "inf", "infinity"
 * or "nan". Accurate to about one unit in the last place, not always
 * correctly rounded.
 */
double strtod(const char *s, char **end);
/** strtod converted to float. */
float strtof(const char *s, char **end);

/** Sorts `n` elements of `size` bytes with `cmp` (not stable). */
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
/** Binary search in a sorted array. @returns the match or NULL. */
void *bsearch(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

/** Absolute value of an int. */
int abs(int x);
/** Absolute value of a long. */
long labs(long x);
/** Absolute value of a long long. */
long long llabs(long long x);
/** Quotient and remainder. */
div_t div(int a, int b);
/** Quotient and remainder. */
ldiv_t ldiv(long a, long b);

/** Pseudo-random number in [0, RAND_MAX] (deterministic; seed with srand). */
int rand(void);
/** Seeds rand(). */
void srand(unsigned seed);

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_STDLIB_H */
