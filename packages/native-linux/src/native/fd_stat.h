// FdStat: fstat() as the raw system call. glibc 2.33 made fstat a real
// function (GLIBC_2.33; before, an inline wrapper of __fxstat), so calling it
// would raise the glibc the addon needs. On x86-64 the kernel's struct stat is
// the C library's (glibc and musl alike).
#ifndef HYPERLIGHT_NATIVE_FD_STAT_H_
#define HYPERLIGHT_NATIVE_FD_STAT_H_

#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace hyperlight_native {

// fstat(fd, st): 0, or -1 with errno set.
inline int FdStat(int fd, struct stat* st) { return static_cast<int>(syscall(SYS_fstat, fd, st)); }

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_FD_STAT_H_
