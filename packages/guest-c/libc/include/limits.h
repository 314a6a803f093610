/**
 * @file limits.h
 * Integer limits for x86-64 (LP64), from gcc's predefined macros. gcc's own
 * limits.h expects a hosted C library to chain to, so the guest libc ships
 * this one.
 */
#ifndef HL_LIBC_LIMITS_H
#define HL_LIBC_LIMITS_H

#define CHAR_BIT __CHAR_BIT__          /**< Bits in a char. */
#define SCHAR_MIN (-__SCHAR_MAX__ - 1) /**< signed char minimum. */
#define SCHAR_MAX __SCHAR_MAX__        /**< signed char maximum. */
#define UCHAR_MAX (__SCHAR_MAX__ * 2 + 1) /**< unsigned char maximum. */
#ifdef __CHAR_UNSIGNED__
#define CHAR_MIN 0                     /**< char minimum. */
#define CHAR_MAX UCHAR_MAX             /**< char maximum. */
#else
#define CHAR_MIN SCHAR_MIN             /**< char minimum. */
#define CHAR_MAX SCHAR_MAX             /**< char maximum. */
#endif
#define SHRT_MIN (-__SHRT_MAX__ - 1)   /**< short minimum. */
#define SHRT_MAX __SHRT_MAX__          /**< short maximum. */
#define USHRT_MAX (__SHRT_MAX__ * 2 + 1) /**< unsigned short maximum. */
#define INT_MIN (-__INT_MAX__ - 1)     /**< int minimum. */
#define INT_MAX __INT_MAX__            /**< int maximum. */
#define UINT_MAX (__INT_MAX__ * 2U + 1U) /**< unsigned int maximum. */
#define LONG_MIN (-__LONG_MAX__ - 1L)  /**< long minimum. */
#define LONG_MAX __LONG_MAX__          /**< long maximum. */
#define ULONG_MAX (__LONG_MAX__ * 2UL + 1UL) /**< unsigned long maximum. */
#define LLONG_MIN (-__LONG_LONG_MAX__ - 1LL) /**< long long minimum. */
#define LLONG_MAX __LONG_LONG_MAX__    /**< long long maximum. */
#define ULLONG_MAX (__LONG_LONG_MAX__ * 2ULL + 1ULL) /**< unsigned long long maximum. */
#define MB_LEN_MAX 4                   /**< Longest multibyte character (UTF-8). */

#endif /* HL_LIBC_LIMITS_H */
