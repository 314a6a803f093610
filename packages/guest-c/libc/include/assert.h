/**
 * @file assert.h
 * `assert(expr)`: a failed assertion aborts the guest with
 * HL_ABORT_CODE_PANIC and the message `assertion failed: expr (file:line)`.
 * Defining NDEBUG turns assertions off. Like ISO C's, this header may be
 * included more than once with NDEBUG toggled.
 */
#undef assert

#ifdef NDEBUG
#define assert(expr) ((void)0)
#else
#define assert(expr) ((expr) ? (void)0 : hl_assert_fail(#expr, __FILE__, __LINE__))
#endif

#ifndef HL_LIBC_ASSERT_H
#define HL_LIBC_ASSERT_H

#ifdef __cplusplus
extern "C" {
#endif

/** Reports a failed assertion and aborts; called by `assert`. */
__attribute__((noreturn)) void hl_assert_fail(const char *expr, const char *file, unsigned line);

#if !defined(__cplusplus) && __STDC_VERSION__ >= 201112L && !defined(static_assert)
#define static_assert _Static_assert
#endif

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_ASSERT_H */
