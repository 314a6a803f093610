/*
 * A tiny test harness for the native unit tests. TEST(name) registers a test;
 * CHECK(cond, fmt, ...) records a failure (and keeps going). main() prints
 * one line per test and a final "RESULT <passed> <failed>" line that
 * test/run.mjs adds up.
 */
#ifndef HLT_CHECK_H
#define HLT_CHECK_H

#include <stdio.h>

void hlt_register(const char *name, void (*fn)(void));
void hlt_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define TEST(name)                                                                        \
  static void name(void);                                                                 \
  __attribute__((constructor)) static void register_##name(void) { hlt_register(#name, name); } \
  static void name(void)

#define CHECK(cond, ...)                                    \
  do {                                                      \
    if (!(cond)) hlt_fail(__FILE__, __LINE__, __VA_ARGS__); \
  } while (0)

#endif /* HLT_CHECK_H */
