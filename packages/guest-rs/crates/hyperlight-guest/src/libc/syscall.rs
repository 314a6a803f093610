//! `__hl_syscall`, the one system-call point of the C library: musl's
//! system-call macros all call it (see `packages/guest-rs/libc`), and it
//! answers from inside the guest. It returns the result or `-errno`, which
//! musl turns into `errno`, and never crashes whatever the arguments; the
//! pointers it is given are the guest's own and are used like any guest
//! memory. The table is in `docs/libc.md`.

use super::linux::errno::{ENOSYS, ENOTTY, ESPIPE};
use super::linux::nr::*;
use super::{exit, files, time};

/// One system call: `n` with up to six arguments.
///
/// # Safety
/// Pointer arguments must be what the system call expects (valid buffers of
/// the sizes given), as for the kernel; invalid ones fault like any bad
/// memory access of the guest.
pub(super) unsafe fn syscall(n: i64, a1: i64, a2: i64, a3: i64) -> i64 {
    match n {
        // SAFETY: the buffer is the caller's, valid per our contract.
        WRITE => unsafe { files::write(a1, a2, a3) },
        // SAFETY: as above.
        WRITEV => unsafe { files::writev(a1, a2, a3) },
        // SAFETY: as above.
        CLOCK_GETTIME => unsafe { time::clock_gettime(a1, a2) },
        // SAFETY: as above.
        CLOCK_GETRES => unsafe { time::clock_getres(a1, a2) },
        READ => files::read(a1),
        READV => files::readv(a1, a3),
        CLOSE => files::close(a1),
        IOCTL => files::on_fd(a1, -ENOTTY),
        LSEEK | PREAD64 | PWRITE64 | PREADV | PWRITEV | PREADV2 | PWRITEV2 => files::on_fd(a1, -ESPIPE),
        FSTAT | FCNTL | FLOCK | FSYNC | FDATASYNC | FTRUNCATE | GETDENTS64 | FCHDIR | FCHMOD | FCHOWN | FSTATFS
        | FADVISE64 | FALLOCATE | SYNCFS | DUP | DUP2 | DUP3 => files::on_fd(a1, -ENOSYS),
        OPEN => files::open(a2),
        OPENAT => files::open(a3),
        CREAT | MKDIR | MKDIRAT | MKNOD | MKNODAT | SYMLINK | SYMLINKAT => files::create(),
        STAT | LSTAT | NEWFSTATAT | STATX | ACCESS | FACCESSAT | FACCESSAT2 | READLINK | READLINKAT | TRUNCATE
        | UNLINK | UNLINKAT | RMDIR | RENAME | RENAMEAT | RENAMEAT2 | LINK | LINKAT | CHMOD | FCHMODAT | CHOWN
        | LCHOWN | FCHOWNAT | UTIME | UTIMES | UTIMENSAT | FUTIMESAT | STATFS | CHDIR | CHROOT | GETCWD => {
            files::look_up()
        }
        GETPID | GETTID => 1,
        GETPPID | GETUID | GETEUID | GETGID | GETEGID => 0,
        // The mask a fresh process usually has; nothing uses it.
        UMASK => 0o022,
        EXIT | EXIT_GROUP => exit::exit(a1),
        _ => -ENOSYS,
    }
}

/// The C library's system calls: `long __hl_syscall(long n, long a1, ...,
/// long a6)`, returning the result or `-errno`.
///
/// # Safety
/// As a system call: pointer arguments must be valid for what call `n` does
/// with them.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn __hl_syscall(n: i64, a1: i64, a2: i64, a3: i64, _a4: i64, _a5: i64, _a6: i64) -> i64 {
    // SAFETY: forwarded; no call served here uses more than three arguments.
    unsafe { syscall(n, a1, a2, a3) }
}
