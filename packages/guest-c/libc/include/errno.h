/**
 * @file errno.h
 * `errno` (one global: guests are single-threaded) and the values the guest
 * libc sets.
 */
#ifndef HL_LIBC_ERRNO_H
#define HL_LIBC_ERRNO_H

#ifdef __cplusplus
extern "C" {
#endif

/** Last error of a libc function that reports one (strtol, malloc, ...). */
extern int errno;

#define ENOMEM 12 /**< Not enough memory. */
#define EINVAL 22 /**< Invalid argument. */
#define EDOM 33   /**< Math argument out of domain. */
#define ERANGE 34 /**< Result out of range. */

#ifdef __cplusplus
}
#endif

#endif /* HL_LIBC_ERRNO_H */
