/* Helpers the native benchmarks share: iteration counts from the environment and a monotonic clock. */
#ifndef HL_TEST_BENCH_UTIL_H
#define HL_TEST_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

/* The positive count in environment variable `name`, else `fallback`. */
static inline unsigned env_count(const char *name, unsigned fallback) {
  const char *v = getenv(name);
  long n = v ? strtol(v, NULL, 10) : 0;
  return n > 0 ? (unsigned)n : fallback;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

#endif
