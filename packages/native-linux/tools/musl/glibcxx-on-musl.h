// Force-included first in every translation unit of the musl addon: adapts
// g++'s C++ headers, which Debian configured for glibc, to musl's C headers.
//
// os_defines.h tests __GLIBC_PREREQ, which musl does not define. Answering
// "yes" selects what is right for musl too: pthreads live in libc (no weak
// pthread references, which would make every mutex a no-op on musl),
// pthread_self() is usable, and the obsolete isinf/isnan are not declared.
#define __GLIBC_PREREQ(major, minor) 1
// c++locale.h names glibc's spelling of locale_t.
#include <locale.h>
typedef locale_t __locale_t;
#include <bits/c++config.h>
#undef __GLIBC_PREREQ
// os_defines.h defines this one as a __GLIBC_PREREQ test, evaluated where used.
#undef _GLIBCXX_NO_OBSOLETE_ISINF_ISNAN_DYNAMIC
#define _GLIBCXX_NO_OBSOLETE_ISINF_ISNAN_DYNAMIC 1

// glibc-only functions c++config.h says exist; musl 1.2 lacks them, so the
// headers must fall back to the portable calls (pthread_cond_timedwait...).
#undef _GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT
#undef _GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK
#undef _GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK
