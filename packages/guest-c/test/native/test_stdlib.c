/* Number parsing, sorting and misc <stdlib.h> against glibc. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hlt.h"

static const char *ints[] = {
    "0", "42", "-42", "+7", "   12abc", "\t\n-0x1F", "0x", "0x1g", "0777", "08", "z", "", "-", "  +",
    "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "99999999999999999999999", "-1", "-18446744073709551615", "1010", "ZZ", "0X7fffffffffffffff",
};
static const int bases[] = {0, 2, 8, 10, 16, 36};

TEST(strtol_family_matches_glibc) {
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
      const char *s = ints[i];
      int base = bases[b];
      char *e1, *e2;
      hlt_errno = 0;
      errno = 0;
      long v1 = hlt_strtol(s, &e1, base), v2 = strtol(s, &e2, base);
      CHECK(v1 == v2 && e1 == e2 && hlt_errno == errno, "strtol(\"%s\", %d): %ld/%td/%d vs %ld/%td/%d", s, base, v1,
            e1 - s, hlt_errno, v2, e2 - s, errno);
      hlt_errno = 0;
      errno = 0;
      unsigned long u1 = hlt_strtoul(s, &e1, base), u2 = strtoul(s, &e2, base);
      CHECK(u1 == u2 && e1 == e2 && hlt_errno == errno, "strtoul(\"%s\", %d): %lu vs %lu", s, base, u1, u2);
      long long l1 = hlt_strtoll(s, &e1, base), l2 = strtoll(s, &e2, base);
      CHECK(l1 == l2 && e1 == e2, "strtoll(\"%s\", %d)", s, base);
      unsigned long long q1 = hlt_strtoull(s, &e1, base), q2 = strtoull(s, &e2, base);
      CHECK(q1 == q2 && e1 == e2, "strtoull(\"%s\", %d)", s, base);
    }
  CHECK(hlt_atoi("  -123xyz") == -123, "atoi");
  CHECK(hlt_atol("9000000000") == 9000000000L, "atol");
  CHECK(hlt_strtol("12", NULL, 10) == 12, "NULL end pointer");
}

/* Distance in units in the last place. */
static uint64_t ulps(double a, double b) {
  int64_t x, y;
  memcpy(&x, &a, 8);
  memcpy(&y, &b, 8);
  if (x < 0) x = INT64_MIN - x;
  if (y < 0) y = INT64_MIN - y;
  return x > y ? (uint64_t)(x - y) : (uint64_t)(y - x);
}

TEST(strtod_is_within_one_ulp_of_glibc) {
  static const char *cases[] = {
      "0", "-0", "1", "1.5", "-2.25", "3.14159265358979323846", "1e10", "1e-10", "6.02214076e23",
      "1.7976931348623157e308", "2.2250738585072014e-308", "4.9e-324", "1e400", "-1e400", "1e-400", "  .5",
      "5.", "0.000001234", "123456789012345678901234567890", "0.1", "0.2", "0.3", "9007199254740993",
      "inf", "-Infinity", "nan", "1e", "1e+", "1.5e-3x", "abc", "+.e1", "100000000000000000000000e-20",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *e1, *e2;
    double a = hlt_strtod(cases[i], &e1), b = strtod(cases[i], &e2);
    bool same = (isnan(a) && isnan(b)) || ulps(a, b) <= 1;
    CHECK(same && e1 == e2, "strtod(\"%s\") = %.17g (end %td), glibc %.17g (end %td)", cases[i], a, e1 - cases[i], b,
          e2 - cases[i]);
  }
  /* Random round trips through %.17g must come back within an ulp. */
  uint64_t state = 12345;
  for (int i = 0; i < 2000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double v;
    uint64_t bits = state;
    memcpy(&v, &bits, 8);
    if (!isfinite(v)) continue;
    char text[64];
    snprintf(text, sizeof text, "%.17g", v);
    double back = hlt_strtod(text, NULL);
    CHECK(ulps(back, v) <= 1, "strtod round trip %s -> %.17g", text, back);
  }
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

TEST(qsort_and_bsearch) {
  static int a[1000], b[1000];
  uint32_t state = 7;
  for (size_t n = 0; n <= 1000; n = n < 20 ? n + 1 : n * 2 + 1) {
    if (n > 1000) n = 1000;
    for (size_t i = 0; i < n; i++) {
      state = state * 1103515245u + 12345u;
      a[i] = b[i] = (int)(state >> 16) % 50; /* many duplicates */
    }
    hlt_qsort(a, n, sizeof a[0], cmp_int);
    qsort(b, n, sizeof b[0], cmp_int);
    CHECK(!memcmp(a, b, n * sizeof a[0]), "qsort n=%zu", n);
    for (int key = -1; key < 51; key++) {
      int *hit = hlt_bsearch(&key, a, n, sizeof a[0], cmp_int);
      bool present = n && bsearch(&key, a, n, sizeof a[0], cmp_int) != NULL;
      CHECK((hit != NULL) == present && (!hit || *hit == key), "bsearch key=%d n=%zu", key, n);
    }
    if (n == 1000) break;
  }
  CHECK(hlt_abs(-5) == 5 && hlt_labs(-5L) == 5, "abs");
}

static void call_abort(void *arg) {
  (void)arg;
  hlt_abort();
}

static void fail_assert(void *arg) {
  (void)arg;
  hlt_hl_assert_fail("x == 1", "main.c", 12);
}

TEST(abort_and_assert_are_panics) {
  CHECK(hlt_catch_abort(call_abort, NULL) && hlt_abort_code == 0x80000001u, "abort() code %#x", hlt_abort_code);
  CHECK(!strcmp(hlt_abort_message, "abort() called"), "abort() message %s", hlt_abort_message);
  CHECK(hlt_catch_abort(fail_assert, NULL) && hlt_abort_code == 0x80000001u, "assert code");
  CHECK(!strcmp(hlt_abort_message, "assertion failed: x == 1 (main.c:12)"), "assert message %s", hlt_abort_message);
}
