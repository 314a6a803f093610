/* <math.h> against glibc's libm: exact functions must match bit for bit,
 * transcendentals within a few ulps. */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "hlt.h"

static uint64_t ulps(double a, double b) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b) ? 0 : UINT64_MAX;
  int64_t x, y;
  memcpy(&x, &a, 8);
  memcpy(&y, &b, 8);
  if (x < 0) x = INT64_MIN - x;
  if (y < 0) y = INT64_MIN - y;
  return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

static bool same_bits(double a, double b) { return (isnan(a) && isnan(b)) || !memcmp(&a, &b, 8); }

static const double specials[] = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994,
                                  -0.49999999999999994, 4503599627370495.5, 4503599627370497.0, 1e300, -1e300,
                                  DBL_MIN, 4.9e-324, INFINITY, -INFINITY, NAN, 3.7, -3.7, 123456.789};
#define NSPECIAL (sizeof specials / sizeof specials[0])

TEST(exact_functions_match_bit_for_bit) {
  for (size_t i = 0; i < NSPECIAL; i++) {
    double x = specials[i];
    CHECK(same_bits(hlt_fabs(x), fabs(x)), "fabs(%g)", x);
    CHECK(same_bits(hlt_floor(x), floor(x)), "floor(%.17g) = %.17g", x, hlt_floor(x));
    CHECK(same_bits(hlt_ceil(x), ceil(x)), "ceil(%.17g) = %.17g", x, hlt_ceil(x));
    CHECK(same_bits(hlt_trunc(x), trunc(x)), "trunc(%.17g) = %.17g", x, hlt_trunc(x));
    CHECK(same_bits(hlt_round(x), round(x)), "round(%.17g) = %.17g", x, hlt_round(x));
    CHECK(same_bits(hlt_sqrt(x), sqrt(x)), "sqrt(%.17g)", x);
    for (size_t j = 0; j < NSPECIAL; j++) {
      double y = specials[j];
      CHECK(same_bits(hlt_fmod(x, y), fmod(x, y)), "fmod(%.17g, %.17g) = %.17g, glibc %.17g", x, y, hlt_fmod(x, y),
            fmod(x, y));
      CHECK(same_bits(hlt_fmin(x, y), fmin(x, y)) || (x == 0 && y == 0), "fmin(%g, %g)", x, y);
      CHECK(same_bits(hlt_fmax(x, y), fmax(x, y)) || (x == 0 && y == 0), "fmax(%g, %g)", x, y);
    }
  }
  CHECK(hlt_sqrtf(2.0f) == sqrtf(2.0f), "sqrtf");
  uint64_t state = 3;
  for (int i = 0; i < 5000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double x = (double)(int64_t)state / (double)(1ull << (state % 62));
    CHECK(same_bits(hlt_floor(x), floor(x)) && same_bits(hlt_round(x), round(x)) && same_bits(hlt_sqrt(fabs(x)), sqrt(fabs(x))),
          "random %.17g", x);
    double y = (double)(int64_t)(state * 31) / 1e6;
    CHECK(same_bits(hlt_fmod(x, y), fmod(x, y)), "fmod(%.17g, %.17g)", x, y);
  }
}

typedef double (*fn1)(double);

static void compare1(const char *name, fn1 ours, fn1 theirs, double lo, double hi, uint64_t max_ulps) {
  uint64_t worst = 0;
  double worst_x = 0;
  for (int i = 0; i <= 4000; i++) {
    double x = lo + (hi - lo) * i / 4000.0;
    uint64_t u = ulps(ours(x), theirs(x));
    if (u > worst) worst = u, worst_x = x;
  }
  CHECK(worst <= max_ulps, "%s: %llu ulps at %.17g (ours %.17g, glibc %.17g)", name, (unsigned long long)worst, worst_x,
        ours(worst_x), theirs(worst_x));
}

TEST(transcendentals_within_two_ulps) {
  compare1("exp", hlt_exp, exp, -745, 709, 2);
  compare1("exp small", hlt_exp, exp, -1, 1, 1);
  compare1("log", hlt_log, log, 1e-300, 1e300, 2);
  compare1("log near 1", hlt_log, log, 0.5, 2, 2);
  compare1("log2", hlt_log2, log2, 1e-10, 1e10, 2);
  compare1("log10", hlt_log10, log10, 1e-10, 1e10, 2);
  compare1("sin", hlt_sin, sin, -100, 100, 2);
  compare1("cos", hlt_cos, cos, -100, 100, 2);
  compare1("tan", hlt_tan, tan, -10, 10, 2);
  compare1("sin large", hlt_sin, sin, 1e5, 1e8, 2);
  compare1("atan", hlt_atan, atan, -1e3, 1e3, 2);
  for (double y = -3; y <= 3; y += 0.25)
    for (double x = -3; x <= 3; x += 0.25)
      CHECK(ulps(hlt_atan2(y, x), atan2(y, x)) <= 2, "atan2(%g, %g)", y, x);
  for (double b = 0.01; b < 100; b *= 1.37)
    for (double e = -300; e < 300; e += 7.3)
      CHECK(ulps(hlt_pow(b, e), pow(b, e)) <= 2, "pow(%.17g, %.17g) = %.17g, glibc %.17g", b, e, hlt_pow(b, e), pow(b, e));
}

TEST(special_values_follow_c_annex_f) {
  static const double xs[] = {0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, INFINITY, -INFINITY, NAN};
  static const double ys[] = {0.0, -0.0, 1.0, -1.0, 2.0, 3.0, -3.0, 0.5, INFINITY, -INFINITY, NAN};
  for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
    for (size_t j = 0; j < sizeof ys / sizeof ys[0]; j++)
      CHECK(same_bits(hlt_pow(xs[i], ys[j]), pow(xs[i], ys[j])), "pow(%g, %g) = %g, glibc %g", xs[i], ys[j],
            hlt_pow(xs[i], ys[j]), pow(xs[i], ys[j]));
  CHECK(isnan(hlt_log(-1)) && hlt_log(0) == -INFINITY && hlt_log(INFINITY) == INFINITY, "log specials");
  CHECK(hlt_exp(-INFINITY) == 0 && hlt_exp(INFINITY) == INFINITY && isnan(hlt_exp(NAN)), "exp specials");
  CHECK(hlt_exp(1000) == INFINITY && hlt_exp(-1000) == 0, "exp over/underflow");
  CHECK(isnan(hlt_sin(INFINITY)) && isnan(hlt_cos(NAN)) && isnan(hlt_tan(-INFINITY)), "trig specials");
  CHECK(hlt_log10(1000) == 3 && hlt_log2(1024) == 10 && hlt_log10(1e22) == 22, "exact logs");
  CHECK(hlt_atan2(0.0, -0.0) == atan2(0.0, -0.0) && same_bits(hlt_atan2(-0.0, 1), -0.0), "atan2 zeros");
}
