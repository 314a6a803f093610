/* Runner for TEST()s; see check.h. */
#include "check.h"

#include <stdarg.h>
#include <string.h>

#define MAX_TESTS 256

static struct { const char *name; void (*fn)(void); } tests[MAX_TESTS];
static int test_count, failures_in_test;

void hlt_register(const char *name, void (*fn)(void)) {
  if (test_count < MAX_TESTS) tests[test_count++] = (typeof(tests[0])){name, fn};
}

void hlt_fail(const char *file, int line, const char *fmt, ...) {
  /* Show the first few failures of a test; the rest only count. */
  if (failures_in_test++ < 5) {
    va_list ap;
    va_start(ap, fmt);
    printf("    %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
  }
}

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (int i = 0; i < test_count; i++) {
    if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
    failures_in_test = 0;
    tests[i].fn();
    if (failures_in_test) {
      printf("FAIL %s (%d failed checks)\n", tests[i].name, failures_in_test);
      failed++;
    } else {
      printf("ok   %s\n", tests[i].name);
      passed++;
    }
    fflush(stdout);
  }
  printf("RESULT %d %d\n", passed, failed);
  return failed ? 1 : 0;
}
