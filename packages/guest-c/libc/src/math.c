/*
 * <math.h>. Transcendentals use the x87 unit (usable at CPL3) in 80-bit
 * extended precision: its 64-bit significand gives 11 guard bits over double,
 * so log/exp/pow/atan round to within about one ulp with a few lines each.
 * The host starts the guest with the x87 control word at its power-on default
 * (all exceptions masked, 64-bit precision); a guest that changes precision or
 * unmasks exceptions changes these results too.
 *
 * sin/cos/tan reduce the argument themselves (fsin's internal pi has only 66
 * bits, which is poor for large arguments): x - k*pi/2 with pi/2 split in
 * three parts (32 + 32 + 64 bits) keeps ~128 bits of pi/2 for |x| < 2^31.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef long double ld;

static ld x87_fyl2x(ld x, ld y) { /* y * log2(x) */
  ld r;
  __asm__("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
  return r;
}
static ld x87_f2xm1(ld x) { /* 2^x - 1, |x| <= 1 */
  ld r;
  __asm__("f2xm1" : "=t"(r) : "0"(x));
  return r;
}
static ld x87_fscale(ld x, ld n) { /* x * 2^trunc(n) */
  ld r;
  __asm__("fscale" : "=t"(r) : "0"(x), "u"(n));
  return r;
}
static ld x87_frndint(ld x) { /* round to nearest even */
  ld r;
  __asm__("frndint" : "=t"(r) : "0"(x));
  return r;
}
static ld x87_fpatan(ld y, ld x) { /* atan(y / x) in the right quadrant */
  ld r;
  __asm__("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)");
  return r;
}
static ld x87_fsin(ld x) {
  ld r;
  __asm__("fsin" : "=t"(r) : "0"(x));
  return r;
}
static ld x87_fcos(ld x) {
  ld r;
  __asm__("fcos" : "=t"(r) : "0"(x));
  return r;
}
static ld x87_ftan(ld x) { /* fptan pushes 1.0 after tan(x); drop it */
  ld r;
  __asm__("fptan\n\tfstp %%st(0)" : "=t"(r) : "0"(x));
  return r;
}
/* Exact remainder x - n*y, n = x/y rounded toward zero (fprem) or to nearest
 * (fprem1); both loop until the reduction is complete (C2 clear). */
static ld x87_fprem(ld x, ld y) {
  ld r;
  __asm__("1: fprem\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\tjnz 1b" : "=t"(r) : "0"(x), "u"(y) : "ax", "cc");
  return r;
}
static ld x87_fprem1(ld x, ld y) {
  ld r;
  __asm__("1: fprem1\n\tfnstsw %%ax\n\ttestw $0x400, %%ax\n\tjnz 1b" : "=t"(r) : "0"(x), "u"(y) : "ax", "cc");
  return r;
}

static const ld LN2 = 0xb17217f7d1cf79acp-64L;   /* ln 2 */
static const ld LG2 = 0x9a209a84fbcff799p-65L;   /* log10 2 */
static const ld LOG2E = 0xb8aa3b295c17f0bcp-63L; /* log2 e */

double fabs(double x) { return __builtin_fabs(x); }
float fabsf(float x) { return __builtin_fabsf(x); }
double copysign(double x, double y) { return __builtin_copysign(x, y); }

double sqrt(double x) {
  __asm__("sqrtsd %1, %0" : "=x"(x) : "x"(x));
  return x;
}

float sqrtf(float x) {
  __asm__("sqrtss %1, %0" : "=x"(x) : "x"(x));
  return x;
}

/* |x| >= 2^52 is already an integer (or inf/nan); below that the int64
 * conversion truncates exactly. copysign keeps -0.0 for -0.5 etc. */
double trunc(double x) {
  if (!(__builtin_fabs(x) < 0x1p52)) return x;
  return __builtin_copysign((double)(int64_t)x, x);
}

double floor(double x) {
  double t = trunc(x);
  return t > x ? t - 1 : t;
}

double ceil(double x) {
  double t = trunc(x);
  return t < x ? t + 1 : t;
}

double round(double x) {
  double t = trunc(x);
  /* x - t is exact here, unlike x + 0.5 (0.49999999999999994 + 0.5 == 1). */
  if (__builtin_fabs(x - t) >= 0.5) t += __builtin_copysign(1.0, x);
  return t;
}

double fmod(double x, double y) { return (double)x87_fprem(x, y); }

double fmin(double x, double y) {
  if (isnan(x)) return y;
  if (isnan(y)) return x;
  return x < y || (x == y && signbit(x)) ? x : y;
}

double fmax(double x, double y) {
  if (isnan(x)) return y;
  if (isnan(y)) return x;
  return x > y || (x == y && !signbit(x)) ? x : y;
}

double log(double x) { return (double)x87_fyl2x(x, LN2); }
double log2(double x) { return (double)x87_fyl2x(x, 1.0L); }
double log10(double x) { return (double)x87_fyl2x(x, LG2); }

/* 2^t: 2^frac via f2xm1 (|frac| <= 1/2), then scale by the integer part. */
static ld exp2_ld(ld t) {
  if (__builtin_isinf(t)) return t > 0 ? t : 0;
  ld n = x87_frndint(t);
  return x87_fscale(x87_f2xm1(t - n) + 1, n);
}

double exp(double x) { return (double)exp2_ld(x * LOG2E); }

static bool is_integer(double y) { return trunc(y) == y; }
static bool is_odd_integer(double y) { return is_integer(y) && __builtin_fabs(y) < 0x1p53 && (int64_t)y % 2 != 0; }

/* Special cases follow ISO C Annex F (F.10.4.4). */
double pow(double x, double y) {
  if (y == 0 || x == 1) return 1;
  if (isnan(x) || isnan(y)) return x + y;
  if (isinf(y)) {
    double ax = __builtin_fabs(x);
    if (ax == 1) return 1;
    return (ax < 1) == (y < 0) ? __builtin_inf() : 0;
  }
  if (x == 0 || isinf(x)) {
    /* 0^y and inf^y: magnitude 0 or inf, sign of x only for odd integer y. */
    bool big = (x == 0) == (y < 0);
    double mag = big ? __builtin_inf() : 0;
    return is_odd_integer(y) ? __builtin_copysign(mag, x) : mag;
  }
  bool negate = false;
  if (x < 0) {
    if (!is_integer(y)) return __builtin_nan("");
    negate = is_odd_integer(y);
    x = -x;
  }
  double r = (double)exp2_ld(y * x87_fyl2x(x, 1.0L));
  return negate ? -r : r;
}

double atan(double x) { return (double)x87_fpatan(x, 1.0L); }
double atan2(double y, double x) { return (double)x87_fpatan(y, x); }

/* pi/2 = P1 + P2 + P3 (32, 32 and 64 significant bits, truncated). */
static const ld PIO2_1 = 0xc90fdaa2p-31L;
static const ld PIO2_2 = 0x85a308d3p-65L;
static const ld PIO2_3 = 0x98cc51701b839a25p-132L;
static const ld TWO_OVER_PI = 0xa2f9836e4e441529p-64L;
static const ld TWO_PI = 0xc90fdaa22168c234p-61L;

/* x = r + q*pi/2 with |r| <= ~pi/4; returns r, sets the quadrant q (0-3). */
static ld reduce(double x, int *q) {
  ld v = x;
  if (__builtin_fabs(x) >= 0x1p31) v = x87_fprem1(v, TWO_PI); /* huge: coarse but bounded */
  ld k = x87_frndint(v * TWO_OVER_PI);
  *q = (int)((int64_t)k & 3);
  return ((v - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
}

double sin(double x) {
  if (!isfinite(x)) return x - x; /* NaN */
  int q;
  ld r = reduce(x, &q);
  ld s = (q & 1) ? x87_fcos(r) : x87_fsin(r);
  return (double)(q & 2 ? -s : s);
}

double cos(double x) {
  if (!isfinite(x)) return x - x;
  int q;
  ld r = reduce(x, &q);
  ld c = (q & 1) ? x87_fsin(r) : x87_fcos(r);
  return (double)((q == 1 || q == 2) ? -c : c);
}

double tan(double x) {
  if (!isfinite(x)) return x - x;
  int q;
  ld r = reduce(x, &q);
  ld t = x87_ftan(r);
  return (double)((q & 1) ? -1 / t : t);
}
