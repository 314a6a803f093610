/* <stdlib.h> except the allocator (malloc.c): parsing, sorting, misc. */
#include <ctype.h>
#include <errno.h>
#include <hyperlight/guest.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

int errno;

void abort(void) { hl_abort(HL_ABORT_CODE_PANIC, "abort() called"); }

int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }
div_t div(int a, int b) { div_t r = {a / b, a % b}; return r; }
ldiv_t ldiv(long a, long b) { ldiv_t r = {a / b, a % b}; return r; }

/* xorshift64*: deterministic, good enough for a guest's rand(). */
static uint64_t rand_state = 0x9E3779B97F4A7C15ull;
void srand(unsigned seed) { rand_state = seed ? seed : 0x9E3779B97F4A7C15ull; }
int rand(void) {
  rand_state ^= rand_state >> 12;
  rand_state ^= rand_state << 25;
  rand_state ^= rand_state >> 27;
  return (int)((rand_state * 0x2545F4914F6CDD1Dull) >> 33);
}

/* ---- integer parsing ---------------------------------------------------- */

static int digit_value(int c) {
  if (isdigit(c)) return c - '0';
  if (islower(c)) return c - 'a' + 10;
  if (isupper(c)) return c - 'A' + 10;
  return 99;
}

/*
 * Shared parser: magnitude (saturated at `limit`, with *overflow set) and sign.
 * `*end` is the first unparsed byte, or `s` when no digits were found.
 */
static unsigned long long parse_uint(const char *s, const char **end, int base, unsigned long long limit,
                                     bool *neg, bool *overflow) {
  const char *p = s;
  unsigned long long v = 0;
  bool any = false;
  *neg = false;
  *overflow = false;
  *end = s;
  if (base < 0 || base == 1 || base > 36) { errno = EINVAL; return 0; }
  while (isspace((unsigned char)*p)) p++;
  if (*p == '+' || *p == '-') *neg = *p++ == '-';
  /* "0x" counts as a prefix only if a hex digit follows; else "0" parses. */
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = *p == '0' ? 8 : 10;
  }
  for (int d; (d = digit_value((unsigned char)*p)) < base; p++) {
    any = true;
    if (v > (limit - (unsigned)d) / (unsigned)base) *overflow = true;
    else v = v * (unsigned)base + (unsigned)d;
  }
  if (any) *end = p;
  return *overflow ? limit : v;
}

static long long parse_signed(const char *s, char **end, int base, long long min, long long max) {
  bool neg, overflow;
  const char *e;
  /* A negative value may reach |min| = max + 1. */
  unsigned long long limit = (unsigned long long)max + 1;
  unsigned long long v = parse_uint(s, &e, base, limit, &neg, &overflow);
  if (end) *end = (char *)e;
  if (!neg && v > (unsigned long long)max) overflow = true;
  if (overflow) { errno = ERANGE; return neg ? min : max; }
  return neg ? (long long)(0 - v) : (long long)v;
}

static unsigned long long parse_unsigned(const char *s, char **end, int base, unsigned long long max) {
  bool neg, overflow;
  const char *e;
  unsigned long long v = parse_uint(s, &e, base, max, &neg, &overflow);
  if (end) *end = (char *)e;
  if (overflow) { errno = ERANGE; return max; }
  return neg ? 0 - v : v;
}

long strtol(const char *s, char **end, int base) { return (long)parse_signed(s, end, base, LONG_MIN, LONG_MAX); }
long long strtoll(const char *s, char **end, int base) { return parse_signed(s, end, base, LLONG_MIN, LLONG_MAX); }
unsigned long strtoul(const char *s, char **end, int base) { return parse_unsigned(s, end, base, ULONG_MAX); }
unsigned long long strtoull(const char *s, char **end, int base) { return parse_unsigned(s, end, base, ULLONG_MAX); }
int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }
long long atoll(const char *s) { return strtoll(s, NULL, 10); }

/* ---- floating-point parsing --------------------------------------------- */

static bool match_word(const char **p, const char *word) {
  const char *q = *p;
  for (; *word; word++, q++)
    if (tolower((unsigned char)*q) != *word) return false;
  *p = q;
  return true;
}

/* 10^e in x87 extended precision by squaring; the 64-bit significand keeps
 * the final rounding to double accurate to about one ulp. */
static long double pow10l_(int e) {
  long double r = 1, b = 10;
  unsigned n = (unsigned)(e < 0 ? -e : e);
  for (; n; n >>= 1, b *= b)
    if (n & 1) r *= b;
  return e < 0 ? 1 / r : r;
}

double strtod(const char *s, char **end) {
  const char *p = s;
  bool neg = false, any = false;
  uint64_t mant = 0;
  int digits = 0, exp10 = 0;
  if (end) *end = (char *)s;
  while (isspace((unsigned char)*p)) p++;
  if (*p == '+' || *p == '-') neg = *p++ == '-';
  if (match_word(&p, "inf")) {
    match_word(&p, "inity");
    if (end) *end = (char *)p;
    return neg ? -__builtin_inf() : __builtin_inf();
  }
  if (match_word(&p, "nan")) {
    if (end) *end = (char *)p;
    return neg ? -__builtin_nan("") : __builtin_nan("");
  }
  /* Keep 19 significant digits (they fit a u64); later ones only scale. */
  for (; isdigit((unsigned char)*p); p++, any = true) {
    if (digits < 19) { mant = mant * 10 + (unsigned)(*p - '0'); if (mant) digits++; }
    else exp10++;
  }
  if (*p == '.') {
    for (p++; isdigit((unsigned char)*p); p++, any = true) {
      if (digits < 19) { mant = mant * 10 + (unsigned)(*p - '0'); if (mant) digits++; exp10--; }
    }
  }
  if (!any) return 0;
  if (*p == 'e' || *p == 'E') {
    const char *q = p + 1;
    bool eneg = false;
    int e = 0;
    if (*q == '+' || *q == '-') eneg = *q++ == '-';
    if (isdigit((unsigned char)*q)) {
      for (; isdigit((unsigned char)*q); q++)
        if (e < 100000) e = e * 10 + (*q - '0');
      exp10 += eneg ? -e : e;
      p = q;
    }
  }
  if (end) *end = (char *)p;
  long double v = (long double)mant;
  if (mant == 0) v = 0;
  else if (exp10 < -4950) v = 0;
  else if (exp10 > 4950) v = __builtin_infl();
  else if (exp10 < -4900) v = v * pow10l_(-4900) * pow10l_(exp10 + 4900); /* avoid 10^-4951 underflow */
  else v *= pow10l_(exp10);
  double d = (double)v;
  if (mant && (d == 0 || __builtin_isinf(d))) errno = ERANGE;
  return neg ? -d : d;
}

float strtof(const char *s, char **end) { return (float)strtod(s, end); }
double atof(const char *s) { return strtod(s, NULL); }

/* ---- sorting -------------------------------------------------------------- */

static void swap_bytes(unsigned char *a, unsigned char *b, size_t n) {
  while (n--) {
    unsigned char t = *a;
    *a++ = *b;
    *b++ = t;
  }
}

/* Heapsort: O(n log n) worst case, no recursion, no allocation. */
static void sift_down(unsigned char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0) child++;
    if (cmp(base + root * size, base + child * size) >= 0) return;
    swap_bytes(base + root * size, base + child * size, size);
    root = child;
  }
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
  unsigned char *b = base;
  if (n < 2 || size == 0) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(b, i, n, size, cmp);
  for (size_t end = n - 1; end > 0; end--) {
    swap_bytes(b, b + end * size, size);
    sift_down(b, 0, end, size, cmp);
  }
}

void *bsearch(const void *key, const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *)) {
  const unsigned char *b = base;
  while (n) {
    const unsigned char *mid = b + (n / 2) * size;
    int c = cmp(key, mid);
    if (c == 0) return (void *)mid;
    if (c > 0) { b = mid + size; n -= n / 2 + 1; }
    else n /= 2;
  }
  return NULL;
}
