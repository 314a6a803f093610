//! The numbers of the Linux x86-64 system-call ABI that musl speaks and the
//! runtime answers: system-call numbers, `errno` values, flags and clock ids
//! (from the kernel's `asm/unistd_64.h`, `asm-generic/errno-base.h`,
//! `fcntl.h` and `time.h`).

/// System-call numbers.
pub(super) mod nr {
    pub(crate) const READ: i64 = 0;
    pub(crate) const WRITE: i64 = 1;
    pub(crate) const OPEN: i64 = 2;
    pub(crate) const CLOSE: i64 = 3;
    pub(crate) const STAT: i64 = 4;
    pub(crate) const FSTAT: i64 = 5;
    pub(crate) const LSTAT: i64 = 6;
    pub(crate) const LSEEK: i64 = 8;
    pub(crate) const IOCTL: i64 = 16;
    pub(crate) const PREAD64: i64 = 17;
    pub(crate) const PWRITE64: i64 = 18;
    pub(crate) const READV: i64 = 19;
    pub(crate) const WRITEV: i64 = 20;
    pub(crate) const ACCESS: i64 = 21;
    pub(crate) const DUP: i64 = 32;
    pub(crate) const DUP2: i64 = 33;
    pub(crate) const GETPID: i64 = 39;
    pub(crate) const EXIT: i64 = 60;
    pub(crate) const FCNTL: i64 = 72;
    pub(crate) const FLOCK: i64 = 73;
    pub(crate) const FSYNC: i64 = 74;
    pub(crate) const FDATASYNC: i64 = 75;
    pub(crate) const TRUNCATE: i64 = 76;
    pub(crate) const FTRUNCATE: i64 = 77;
    pub(crate) const GETCWD: i64 = 79;
    pub(crate) const CHDIR: i64 = 80;
    pub(crate) const FCHDIR: i64 = 81;
    pub(crate) const RENAME: i64 = 82;
    pub(crate) const MKDIR: i64 = 83;
    pub(crate) const RMDIR: i64 = 84;
    pub(crate) const CREAT: i64 = 85;
    pub(crate) const LINK: i64 = 86;
    pub(crate) const UNLINK: i64 = 87;
    pub(crate) const SYMLINK: i64 = 88;
    pub(crate) const READLINK: i64 = 89;
    pub(crate) const CHMOD: i64 = 90;
    pub(crate) const FCHMOD: i64 = 91;
    pub(crate) const CHOWN: i64 = 92;
    pub(crate) const FCHOWN: i64 = 93;
    pub(crate) const LCHOWN: i64 = 94;
    pub(crate) const UMASK: i64 = 95;
    pub(crate) const GETUID: i64 = 102;
    pub(crate) const GETGID: i64 = 104;
    pub(crate) const GETEUID: i64 = 107;
    pub(crate) const GETEGID: i64 = 108;
    pub(crate) const GETPPID: i64 = 110;
    pub(crate) const UTIME: i64 = 132;
    pub(crate) const MKNOD: i64 = 133;
    pub(crate) const STATFS: i64 = 137;
    pub(crate) const FSTATFS: i64 = 138;
    pub(crate) const CHROOT: i64 = 161;
    pub(crate) const GETTID: i64 = 186;
    pub(crate) const GETDENTS64: i64 = 217;
    pub(crate) const FADVISE64: i64 = 221;
    pub(crate) const CLOCK_GETTIME: i64 = 228;
    pub(crate) const CLOCK_GETRES: i64 = 229;
    pub(crate) const EXIT_GROUP: i64 = 231;
    pub(crate) const UTIMES: i64 = 235;
    pub(crate) const OPENAT: i64 = 257;
    pub(crate) const MKDIRAT: i64 = 258;
    pub(crate) const MKNODAT: i64 = 259;
    pub(crate) const FCHOWNAT: i64 = 260;
    pub(crate) const FUTIMESAT: i64 = 261;
    pub(crate) const NEWFSTATAT: i64 = 262;
    pub(crate) const UNLINKAT: i64 = 263;
    pub(crate) const RENAMEAT: i64 = 264;
    pub(crate) const LINKAT: i64 = 265;
    pub(crate) const SYMLINKAT: i64 = 266;
    pub(crate) const READLINKAT: i64 = 267;
    pub(crate) const FCHMODAT: i64 = 268;
    pub(crate) const FACCESSAT: i64 = 269;
    pub(crate) const UTIMENSAT: i64 = 280;
    pub(crate) const FALLOCATE: i64 = 285;
    pub(crate) const DUP3: i64 = 292;
    pub(crate) const PREADV: i64 = 295;
    pub(crate) const PWRITEV: i64 = 296;
    pub(crate) const SYNCFS: i64 = 306;
    pub(crate) const RENAMEAT2: i64 = 316;
    pub(crate) const PREADV2: i64 = 327;
    pub(crate) const PWRITEV2: i64 = 328;
    pub(crate) const STATX: i64 = 332;
    pub(crate) const FACCESSAT2: i64 = 439;
}

/// `errno` values (the runtime returns them negated).
pub(super) mod errno {
    pub(crate) const ENOENT: i64 = 2;
    pub(crate) const EBADF: i64 = 9;
    pub(crate) const ENOMEM: i32 = 12;
    pub(crate) const EFAULT: i64 = 14;
    pub(crate) const EINVAL: i64 = 22;
    pub(crate) const ENOTTY: i64 = 25;
    pub(crate) const ESPIPE: i64 = 29;
    pub(crate) const EROFS: i64 = 30;
    pub(crate) const ENOSYS: i64 = 38;
}

/// `open` flags that ask to create a file (`O_CREAT`, and `O_TMPFILE`'s own bit).
pub(super) const O_CREATING: i64 = 0o100 | 0o20_000_000;

/// The largest `iovcnt` `readv`/`writev` accept (`IOV_MAX`).
pub(super) const IOV_MAX: i64 = 1024;

/// Clock ids of `clock_gettime` and `clock_getres`.
pub(super) mod clock {
    pub(crate) const REALTIME: i64 = 0;
    pub(crate) const MONOTONIC: i64 = 1;
    pub(crate) const PROCESS_CPUTIME_ID: i64 = 2;
    pub(crate) const THREAD_CPUTIME_ID: i64 = 3;
    pub(crate) const MONOTONIC_RAW: i64 = 4;
    pub(crate) const REALTIME_COARSE: i64 = 5;
    pub(crate) const MONOTONIC_COARSE: i64 = 6;
    pub(crate) const BOOTTIME: i64 = 7;
}
