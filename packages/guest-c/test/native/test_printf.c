/* The printf engine against glibc: same text and same return value. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "hlt.h"

#define SAME(fmt, ...)                                                                          \
  do {                                                                                          \
    char a_[512], b_[512];                                                                      \
    int na_ = hlt_snprintf(a_, sizeof a_, fmt, __VA_ARGS__);                                    \
    int nb_ = snprintf(b_, sizeof b_, fmt, __VA_ARGS__);                                        \
    CHECK(na_ == nb_ && !strcmp(a_, b_), "format \"%s\": got \"%s\" (%d), glibc \"%s\" (%d)", fmt, a_, na_, b_, nb_); \
  } while (0)

TEST(integers_match_glibc) {
  static const char *fmts[] = {"%d", "%i", "%5d", "%-5d|", "%05d", "%+d", "% d", "%.3d", "%8.3d", "%-8.3d|", "%.0d",
                               "%+.0d", "%08.3d", "%+05d", "% 05d"};
  static const long long vals[] = {0, 1, -1, 42, -42, 12345, INT32_MAX, INT32_MIN};
  for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) SAME(fmts[f], (int)vals[v]);
  static const char *ufmts[] = {"%u", "%x", "%X", "%o", "%#x", "%#X", "%#o", "%#.0o", "%.0x", "%08x", "%#08x",
                                "%-#10x|", "%#10.4x", "%3o"};
  static const unsigned uvals[] = {0, 1, 8, 255, 0xdeadbeef, UINT32_MAX};
  for (size_t f = 0; f < sizeof ufmts / sizeof ufmts[0]; f++)
    for (size_t v = 0; v < sizeof uvals / sizeof uvals[0]; v++) SAME(ufmts[f], uvals[v]);
  SAME("%ld %li %lu %lx", (long)INT64_MIN, (long)INT64_MAX, (unsigned long)UINT64_MAX, (unsigned long)UINT64_MAX);
  SAME("%lld %llu %llo", (long long)INT64_MIN, (unsigned long long)UINT64_MAX, (unsigned long long)UINT64_MAX);
  SAME("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
  SAME("%hhd %hhx", -129, -1);
  SAME("%zu %zd %zx", (size_t)SIZE_MAX, (ptrdiff_t)-5, (size_t)4096);
  SAME("%jd %ju %td", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX, (ptrdiff_t)-77);
  SAME("%*d|%-*d|%.*d", 6, 42, 6, 42, 4, 42);
  SAME("%*d|", -6, 42);
  SAME("%.*d|", -1, 42);
}

static int fmt_dummy_for_pointer;

TEST(strings_chars_pointers_match_glibc) {
  SAME("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|", "hello", "hello", "hello", "hello", "hello", "hello");
  SAME("%s", "");
  SAME("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
  SAME("%%|%d%%", 5);
  SAME("%p %p", (void *)0x1234, (void *)&fmt_dummy_for_pointer);
  SAME("%p|%20p|%-20p|", (void *)0, (void *)0xabc, (void *)0xabc);
  SAME("%s", (char *)NULL);
}

TEST(floats_match_glibc) {
  static const char *fmts[] = {"%f", "%.0f", "%.1f", "%.3f", "%.10f", "%10.2f", "%-10.2f|", "%010.2f", "%+f", "% f",
                               "%#.0f", "%e", "%.0e", "%.3e", "%E", "%12.4e", "%#.0e", "%g", "%.0g", "%.1g", "%.3g",
                               "%.10g", "%G", "%#g", "%#.3g", "%10g", "%-10g|", "%+g", "%.17g", "%.20e", "%.40f"};
  static const double vals[] = {0.0, -0.0, 1.0, -1.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3,
                                9.5, 99.5, 999.9999, 0.000123456, 1e-5, 1e-4, 123456.0, 1234567.0, 1e15, 1e16,
                                1e17, 1e21, 1e22, 1e23, 1e100, 1e300, DBL_MAX, DBL_MIN, 4.9e-324, 3.14159265358979,
                                2.718281828459045, 6.02214076e23, 0.05, 0.15, 0.25, 0.35, 1e-300, 5e-324, 9.9999999,
                                123.456, -987.654321};
  for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
      /* glibc prints "1.e+03" here; ISO C 7.21.6.1 (%g: style e, precision
       * P - 1 = 2, '#' keeps trailing zeros) requires "1.00e+03". */
      if (!strcmp(fmts[f], "%#.3g") && vals[v] == 999.9999) continue;
      SAME(fmts[f], vals[v]);
    }
  char c999[32];
  hlt_snprintf(c999, sizeof c999, "%#.3g", 999.9999);
  CHECK(!strcmp(c999, "1.00e+03"), "%%#.3g of 999.9999: %s", c999);
  SAME("%f %F %e %E %g %G", INFINITY, INFINITY, -INFINITY, -INFINITY, NAN, NAN);
  SAME("%10f|%-10f|%010f|%+f", INFINITY, -INFINITY, INFINITY, INFINITY);
  SAME("%.3f %.3f", (double)3.14159f, (double)-0.0f);
  SAME("%Lf %.2Le", (long double)1.25, (long double)12345.678);
}

TEST(random_doubles_match_glibc) {
  static const char *fmts[] = {"%.17g", "%.6e", "%.3f", "%g", "%.0f", "%.25e"};
  uint64_t state = 42;
  for (int i = 0; i < 3000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double v;
    uint64_t bits = state;
    memcpy(&v, &bits, 8);
    if (!isfinite(v)) continue;
    SAME(fmts[i % 6], v);
    /* Also values of everyday magnitude. */
    double w = (double)(int64_t)(state >> 20) / (double)(1ull << (i % 40));
    SAME(fmts[(i + 1) % 6], w);
  }
}

TEST(snprintf_truncates_and_counts) {
  char buf[8];
  memset(buf, 'X', sizeof buf);
  int n = hlt_snprintf(buf, 5, "%s", "hello world");
  CHECK(n == 11 && !strcmp(buf, "hell") && buf[5] == 'X', "truncation: %d \"%s\"", n, buf);
  CHECK(hlt_snprintf(NULL, 0, "%d", 12345) == 5, "size 0 counts only");
  char big[2048];
  n = hlt_snprintf(big, sizeof big, "%.1000f", 1.0);
  CHECK(n == 1002 && big[0] == '1' && big[1001] == '0', "long precision");
  n = hlt_sprintf(big, "%s-%d", "ab", 7);
  CHECK(n == 4 && !strcmp(big, "ab-7"), "sprintf");
  /* Unknown conversions are printed as written. */
  n = hlt_snprintf(big, sizeof big, "%y%d", 5);
  CHECK(!strcmp(big, "%y5"), "unknown conversion: %s", big);
}

TEST(stdout_buffers_until_newline_or_flush) {
  hlt_printed_len = 0;
  hlt_prints = 0;
  hlt_printf("no newline yet %d", 1);
  CHECK(hlt_prints == 0, "flushed too early");
  hlt_printf(" and now\n");
  CHECK(hlt_prints == 1 && hlt_printed_len == 25 && !memcmp(hlt_printed, "no newline yet 1 and now\n", 25),
        "line flush: %u prints, \"%.*s\"", hlt_prints, (int)hlt_printed_len, hlt_printed);
  hlt_putchar('x');
  hlt_puts("yz");
  CHECK(hlt_prints == 2 && !memcmp(hlt_printed + 25, "xyz\n", 4), "puts/putchar");
  hlt_printf("tail");
  hlt_fflush(hlt_stdout);
  CHECK(hlt_prints == 3 && !memcmp(hlt_printed + 29, "tail", 4), "fflush");
  /* More than the buffer holds without a newline: flushed when full. */
  char line[2000];
  memset(line, 'a', sizeof line - 1);
  line[sizeof line - 1] = 0;
  hlt_prints = 0;
  hlt_printed_len = 0;
  int n = hlt_printf("%s", line);
  hlt_hl_stdio_flush();
  CHECK(n == 1999 && hlt_printed_len == 1999 && hlt_prints >= 4, "big print: %d bytes in %u prints", n, hlt_prints);
}
