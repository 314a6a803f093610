/*
 * The guest libc as the unit tests see it: the libc sources are compiled
 * natively against the guest headers and every symbol gets the prefix `hlt_`
 * (objcopy --prefix-symbols), so they link next to glibc without clashing and
 * the tests can compare the two.
 */
#ifndef HLT_H
#define HLT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void hlt_hl_heap_init(void *base, size_t size);
size_t hlt_hl_heap_largest_free(void);
void *hlt_malloc(size_t n);
void *hlt_calloc(size_t n, size_t size);
void *hlt_realloc(void *p, size_t n);
void hlt_free(void *p);
void *hlt_aligned_alloc(size_t align, size_t n);
extern int hlt_errno;

void *hlt_memcpy(void *d, const void *s, size_t n);
void *hlt_memmove(void *d, const void *s, size_t n);
void *hlt_memset(void *d, int c, size_t n);
int hlt_memcmp(const void *a, const void *b, size_t n);
void *hlt_memchr(const void *s, int c, size_t n);
size_t hlt_strlen(const char *s);
size_t hlt_strnlen(const char *s, size_t n);
int hlt_strcmp(const char *a, const char *b);
int hlt_strncmp(const char *a, const char *b, size_t n);
char *hlt_strcpy(char *d, const char *s);
char *hlt_strncpy(char *d, const char *s, size_t n);
char *hlt_strcat(char *d, const char *s);
char *hlt_strncat(char *d, const char *s, size_t n);
char *hlt_strchr(const char *s, int c);
char *hlt_strrchr(const char *s, int c);
char *hlt_strstr(const char *h, const char *n);
size_t hlt_strspn(const char *s, const char *a);
size_t hlt_strcspn(const char *s, const char *r);
char *hlt_strdup(const char *s);
char *hlt_strndup(const char *s, size_t n);

int hlt_isalnum(int c), hlt_isalpha(int c), hlt_isblank(int c), hlt_iscntrl(int c), hlt_isdigit(int c),
    hlt_isgraph(int c), hlt_islower(int c), hlt_isprint(int c), hlt_ispunct(int c), hlt_isspace(int c),
    hlt_isupper(int c), hlt_isxdigit(int c), hlt_tolower(int c), hlt_toupper(int c);

int hlt_atoi(const char *s);
long hlt_atol(const char *s);
long hlt_strtol(const char *s, char **end, int base);
unsigned long hlt_strtoul(const char *s, char **end, int base);
long long hlt_strtoll(const char *s, char **end, int base);
unsigned long long hlt_strtoull(const char *s, char **end, int base);
double hlt_strtod(const char *s, char **end);
void hlt_qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
void *hlt_bsearch(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
int hlt_abs(int x);
long hlt_labs(long x);
void hlt_abort(void);

int hlt_snprintf(char *buf, size_t size, const char *fmt, ...);
int hlt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hlt_sprintf(char *buf, const char *fmt, ...);
int hlt_printf(const char *fmt, ...);
int hlt_puts(const char *s);
int hlt_putchar(int c);
extern void *const hlt_stdout;
int hlt_fflush(void *f);
void hlt_hl_stdio_flush(void);
void hlt_hl_assert_fail(const char *expr, const char *file, unsigned line);

double hlt_fabs(double), hlt_floor(double), hlt_ceil(double), hlt_trunc(double), hlt_round(double),
    hlt_fmod(double, double), hlt_sqrt(double), hlt_pow(double, double), hlt_exp(double), hlt_log(double),
    hlt_log2(double), hlt_log10(double), hlt_sin(double), hlt_cos(double), hlt_tan(double), hlt_atan(double),
    hlt_atan2(double, double), hlt_fmin(double, double), hlt_fmax(double, double);
float hlt_sqrtf(float);

/* What the stubs of the runtime functions saw (stubs.c). */
extern char hlt_printed[65536];
extern size_t hlt_printed_len;
extern unsigned hlt_prints;
extern uint32_t hlt_abort_code;
extern char hlt_abort_message[4096];
/** Runs fn(); returns 1 if it called hl_abort/hl_panic (recorded above), else 0. */
int hlt_catch_abort(void (*fn)(void *), void *arg);

#endif /* HLT_H */
