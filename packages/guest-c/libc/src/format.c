/*
 * The printf engine behind every formatted-output function.
 *
 * Floating point is printed from the exact decimal expansion of the double
 * (a double is m * 2^e, so it has a finite decimal expansion of at most ~770
 * significant digits), then rounded half-to-even on the digit string. That is
 * what glibc does, so output matches it digit for digit without needing
 * extended precision tricks. No heap use: printf must work when the heap is
 * exhausted (e.g. in an out-of-memory abort message).
 */
#include "format.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static void put(hl_sink *s, const char *p, size_t n) {
  if (!n) return;
  s->write(s, p, n);
  s->count += n;
}

static void put_repeat(hl_sink *s, char c, size_t n) {
  char chunk[32];
  memset(chunk, c, sizeof chunk);
  while (n) {
    size_t k = n < sizeof chunk ? n : sizeof chunk;
    put(s, chunk, k);
    n -= k;
  }
}

/* ---- conversion spec -------------------------------------------------------- */

enum { F_MINUS = 1, F_PLUS = 2, F_SPACE = 4, F_HASH = 8, F_ZERO = 16, F_UPPER = 32 };

typedef struct spec {
  unsigned flags;
  size_t width;
  int precision; /* -1 = not given */
} spec;

/*
 * Emits `prefix` (sign, 0x) and a body of `body_len` bytes produced by
 * `body(ctx)`, honouring width, '-' and zero padding (`zero_ok`: the '0'
 * flag applies to this conversion).
 */
typedef void (*body_fn)(hl_sink *s, const void *ctx);

static void emit_padded(hl_sink *s, const spec *sp, const char *prefix, size_t body_len, body_fn body,
                        const void *ctx, bool zero_ok) {
  size_t plen = strlen(prefix), len = plen + body_len;
  size_t pad = sp->width > len ? sp->width - len : 0;
  bool zeros = zero_ok && (sp->flags & F_ZERO) && !(sp->flags & F_MINUS);
  if (!(sp->flags & F_MINUS) && !zeros) put_repeat(s, ' ', pad);
  put(s, prefix, plen);
  if (zeros) put_repeat(s, '0', pad);
  body(s, ctx);
  if (sp->flags & F_MINUS) put_repeat(s, ' ', pad);
}

/* ---- integers ---------------------------------------------------------------- */

typedef struct int_body {
  const char *digits;
  size_t ndigits;
  size_t zeros; /* from the precision */
} int_body;

static void write_int_body(hl_sink *s, const void *ctx) {
  const int_body *b = ctx;
  put_repeat(s, '0', b->zeros);
  put(s, b->digits, b->ndigits);
}

static void format_int(hl_sink *s, const spec *sp, uint64_t v, bool negative, unsigned base, char conv) {
  char tmp[24];
  size_t n = 0;
  const char *alphabet = (sp->flags & F_UPPER) ? "0123456789ABCDEF" : "0123456789abcdef";
  for (uint64_t x = v; x; x /= base) tmp[sizeof tmp - ++n] = alphabet[x % base];
  /* Precision 0 with value 0 prints no digits; default precision is 1. */
  size_t precision = sp->precision < 0 ? 1 : (size_t)sp->precision;
  size_t zeros = precision > n ? precision - n : 0;
  if (base == 8 && (sp->flags & F_HASH) && zeros == 0 && (n == 0 || tmp[sizeof tmp - n] != '0')) zeros = 1;
  const char *prefix = "";
  if (conv == 'd' || conv == 'i') prefix = negative ? "-" : (sp->flags & F_PLUS) ? "+" : (sp->flags & F_SPACE) ? " " : "";
  else if (base == 16 && (sp->flags & F_HASH) && v) prefix = (sp->flags & F_UPPER) ? "0X" : "0x";
  int_body b = {tmp + sizeof tmp - n, n, zeros};
  emit_padded(s, sp, prefix, zeros + n, write_int_body, &b, sp->precision < 0);
}

/* ---- floating point ---------------------------------------------------------- */

/* Decimal digits of a finite positive double: value = 0.d[0]d[1]... * 10^point. */
typedef struct decimal {
  char d[800];
  int n;
  int point;
} decimal;

#define LIMB_BASE 1000000000u

static void big_mul(uint32_t *limbs, int *count, uint32_t factor) {
  uint64_t carry = 0;
  for (int i = 0; i < *count; i++) {
    uint64_t x = (uint64_t)limbs[i] * factor + carry;
    limbs[i] = (uint32_t)(x % LIMB_BASE);
    carry = x / LIMB_BASE;
  }
  while (carry) {
    limbs[(*count)++] = (uint32_t)(carry % LIMB_BASE);
    carry /= LIMB_BASE;
  }
}

static void exact_decimal(double x, decimal *out) {
  uint64_t bits;
  memcpy(&bits, &x, 8);
  int e2 = (int)((bits >> 52) & 0x7ff);
  uint64_t m = bits & ((1ull << 52) - 1);
  if (e2) m |= 1ull << 52;
  else e2 = 1; /* subnormal */
  e2 -= 1075;  /* x = m * 2^e2 */

  /* N = m * 2^e2 (e2 >= 0) or m * 5^-e2 (then x = N * 10^e2), base 1e9. */
  uint32_t limbs[96];
  int count = 0;
  for (uint64_t t = m; t; t /= LIMB_BASE) limbs[count++] = (uint32_t)(t % LIMB_BASE);
  int pow10 = 0;
  if (e2 >= 0) {
    for (int k = e2; k > 0; k -= 29) big_mul(limbs, &count, 1u << (k < 29 ? k : 29));
  } else {
    for (int k = -e2; k > 0; k -= 13) {
      uint32_t f = 1;
      for (int j = 0; j < (k < 13 ? k : 13); j++) f *= 5;
      big_mul(limbs, &count, f);
    }
    pow10 = e2;
  }

  /* Limbs to digits, most significant first, without leading zeros. */
  int n = 0;
  for (int i = count - 1; i >= 0; i--) {
    char nine[9];
    uint32_t v = limbs[i];
    for (int j = 8; j >= 0; j--, v /= 10) nine[j] = (char)('0' + v % 10);
    int from = 0;
    if (i == count - 1)
      while (from < 8 && nine[from] == '0') from++;
    memcpy(out->d + n, nine + from, (size_t)(9 - from));
    n += 9 - from;
  }
  out->point = n + pow10;
  while (n > 0 && out->d[n - 1] == '0') n--;
  out->n = n;
}

/* Keeps the first `keep` digits, rounding half to even on the exact value. */
static void round_decimal(decimal *dec, int keep) {
  if (keep >= dec->n) return;
  if (keep < 0) { dec->n = 0; return; }
  char first = dec->d[keep];
  bool up;
  if (first != '5') up = first > '5';
  else if (keep + 1 < dec->n) up = true; /* trailing zeros are stripped: more digits mean > half */
  else up = keep > 0 && ((dec->d[keep - 1] - '0') & 1);
  dec->n = keep;
  if (up) {
    int i = keep - 1;
    while (i >= 0 && dec->d[i] == '9') i--;
    if (i < 0) { /* 999 -> 1000 */
      dec->d[0] = '1';
      dec->n = 1;
      dec->point++;
      return;
    }
    dec->d[i]++;
    dec->n = i + 1;
  }
  while (dec->n > 0 && dec->d[dec->n - 1] == '0') dec->n--;
}

typedef struct float_body {
  const decimal *dec;
  char style;        /* 'f' or 'e' */
  int precision;     /* digits after the point */
  bool point;        /* print the '.' */
  bool upper;
} float_body;

/* Digits at positions [from, to) of the digit string, zeros outside it. */
static void put_digits(hl_sink *s, const decimal *dec, int from, int to) {
  if (from >= to) return;
  if (from < 0) {
    int z = (to < 0 ? to : 0) - from;
    put_repeat(s, '0', (size_t)z);
    from += z;
  }
  int avail_to = to < dec->n ? to : dec->n;
  if (from < avail_to) {
    put(s, dec->d + from, (size_t)(avail_to - from));
    from = avail_to;
  }
  if (from < to) put_repeat(s, '0', (size_t)(to - from));
}

static int exponent_of(const decimal *dec) { return dec->n ? dec->point - 1 : 0; }

static size_t exp_len(int e) {
  int a = e < 0 ? -e : e;
  return a >= 100 ? 3 : 2;
}

static void write_float_body(hl_sink *s, const void *ctx) {
  const float_body *b = ctx;
  const decimal *dec = b->dec;
  if (b->style == 'f') {
    int ip = dec->n ? dec->point : 0; /* integer digits */
    if (ip <= 0) put(s, "0", 1);
    else put_digits(s, dec, 0, ip);
    if (b->point) put(s, ".", 1);
    put_digits(s, dec, ip, ip + b->precision);
  } else {
    put_digits(s, dec, 0, 1);
    if (b->point) put(s, ".", 1);
    put_digits(s, dec, 1, 1 + b->precision);
    int e = exponent_of(dec);
    char tail[8];
    int a = e < 0 ? -e : e;
    size_t k = 0;
    tail[k++] = b->upper ? 'E' : 'e';
    tail[k++] = e < 0 ? '-' : '+';
    if (a >= 100) tail[k++] = (char)('0' + a / 100);
    tail[k++] = (char)('0' + a / 10 % 10);
    tail[k++] = (char)('0' + a % 10);
    put(s, tail, k);
  }
}

static size_t float_body_len(const float_body *b) {
  size_t len = (size_t)b->precision + (b->point ? 1 : 0);
  if (b->style == 'f') {
    int ip = b->dec->n ? b->dec->point : 0;
    return len + (ip > 0 ? (size_t)ip : 1);
  }
  return len + 1 + 2 + exp_len(exponent_of(b->dec));
}

static void write_text(hl_sink *s, const void *ctx) { put(s, ctx, strlen(ctx)); }

static void format_float(hl_sink *s, const spec *sp, double x, char conv) {
  bool upper = conv >= 'A' && conv <= 'Z';
  char lower = (char)(upper ? conv + 32 : conv);
  const char *sign = __builtin_signbit(x) ? "-" : (sp->flags & F_PLUS) ? "+" : (sp->flags & F_SPACE) ? " " : "";
  if (__builtin_isnan(x) || __builtin_isinf(x)) {
    const char *text = __builtin_isnan(x) ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    emit_padded(s, sp, sign, 3, write_text, text, false);
    return;
  }
  decimal dec;
  if (x == 0) {
    dec.n = 0;
    dec.point = 0;
  } else {
    exact_decimal(x < 0 ? -x : x, &dec);
  }
  int p = sp->precision < 0 ? 6 : sp->precision;
  bool hash = sp->flags & F_HASH;
  float_body b = {&dec, 'f', p, p > 0 || hash, upper};
  if (lower == 'f') {
    round_decimal(&dec, dec.point + p);
  } else if (lower == 'e') {
    b.style = 'e';
    round_decimal(&dec, p + 1);
  } else { /* 'g': choose by the exponent after rounding to p significant digits */
    if (p == 0) p = 1;
    round_decimal(&dec, p);
    int e = exponent_of(&dec);
    if (e >= -4 && e < p) {
      b.precision = p - 1 - e;
      if (!hash) { /* drop trailing zeros: keep only digits the string has */
        int needed = dec.n - dec.point;
        b.precision = needed < 0 ? 0 : (needed < b.precision ? needed : b.precision);
      }
    } else {
      b.style = 'e';
      b.precision = p - 1;
      if (!hash) b.precision = dec.n > 1 ? dec.n - 1 : 0;
    }
    b.point = b.precision > 0 || hash;
  }
  emit_padded(s, sp, sign, float_body_len(&b), write_float_body, &b, true);
}

/* ---- the driver -------------------------------------------------------------- */

typedef struct str_body {
  const char *p;
  size_t n;
} str_body;

static void write_str_body(hl_sink *s, const void *ctx) {
  const str_body *b = ctx;
  put(s, b->p, b->n);
}

int hl_vformat(hl_sink *s, const char *fmt, va_list ap) {
  while (*fmt) {
    if (*fmt != '%') {
      const char *q = fmt;
      while (*q && *q != '%') q++;
      put(s, fmt, (size_t)(q - fmt));
      fmt = q;
      continue;
    }
    const char *start = fmt++;
    spec sp = {0, 0, -1};
    for (;; fmt++) {
      if (*fmt == '-') sp.flags |= F_MINUS;
      else if (*fmt == '+') sp.flags |= F_PLUS;
      else if (*fmt == ' ') sp.flags |= F_SPACE;
      else if (*fmt == '#') sp.flags |= F_HASH;
      else if (*fmt == '0') sp.flags |= F_ZERO;
      else break;
    }
    if (*fmt == '*') {
      int w = va_arg(ap, int);
      if (w < 0) { sp.flags |= F_MINUS; w = -w; }
      sp.width = (size_t)w;
      fmt++;
    } else {
      while (*fmt >= '0' && *fmt <= '9') sp.width = sp.width * 10 + (size_t)(*fmt++ - '0');
    }
    if (*fmt == '.') {
      fmt++;
      if (*fmt == '*') {
        int pr = va_arg(ap, int);
        sp.precision = pr < 0 ? -1 : pr;
        fmt++;
      } else {
        sp.precision = 0;
        while (*fmt >= '0' && *fmt <= '9') sp.precision = sp.precision * 10 + (*fmt++ - '0');
      }
    }
    /* Length modifier: 1 = hh, 2 = h, 4 = int, 8 = long-sized (l ll z j t), 16 = L. */
    int len = 4;
    if (fmt[0] == 'h' && fmt[1] == 'h') { len = 1; fmt += 2; }
    else if (fmt[0] == 'l' && fmt[1] == 'l') { len = 8; fmt += 2; }
    else if (*fmt == 'h') { len = 2; fmt++; }
    else if (*fmt == 'l' || *fmt == 'z' || *fmt == 'j' || *fmt == 't') { len = 8; fmt++; }
    else if (*fmt == 'L') { len = 16; fmt++; }
    char conv = *fmt;
    if (conv) fmt++;
    switch (conv) {
      case 'd': case 'i': {
        int64_t v = len == 8 ? va_arg(ap, long) : va_arg(ap, int);
        if (len == 1) v = (signed char)v;
        if (len == 2) v = (short)v;
        format_int(s, &sp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, 'd');
        break;
      }
      case 'u': case 'x': case 'X': case 'o': {
        uint64_t v = len == 8 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
        if (len == 1) v = (unsigned char)v;
        if (len == 2) v = (unsigned short)v;
        if (conv == 'X') sp.flags |= F_UPPER;
        format_int(s, &sp, v, false, conv == 'u' ? 10 : conv == 'o' ? 8 : 16, conv);
        break;
      }
      case 'p': {
        uintptr_t v = (uintptr_t)va_arg(ap, void *);
        if (!v) {
          str_body b = {"(nil)", 5};
          emit_padded(s, &sp, "", 5, write_str_body, &b, false);
        } else {
          sp.flags |= F_HASH;
          format_int(s, &sp, v, false, 16, 'p');
        }
        break;
      }
      case 'c': {
        char c = (char)va_arg(ap, int);
        str_body b = {&c, 1};
        emit_padded(s, &sp, "", 1, write_str_body, &b, false);
        break;
      }
      case 's': {
        const char *str = va_arg(ap, const char *);
        if (!str) str = "(null)";
        size_t n = sp.precision < 0 ? strlen(str) : strnlen(str, (size_t)sp.precision);
        str_body b = {str, n};
        emit_padded(s, &sp, "", n, write_str_body, &b, false);
        break;
      }
      case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
        double v = len == 16 ? (double)va_arg(ap, long double) : va_arg(ap, double);
        format_float(s, &sp, v, conv);
        break;
      }
      case '%':
        put(s, "%", 1);
        break;
      default: /* unknown (or %n): print the spec as written */
        put(s, start, (size_t)(fmt - start));
        break;
    }
  }
  return s->count > 0x7fffffff ? -1 : (int)s->count;
}
