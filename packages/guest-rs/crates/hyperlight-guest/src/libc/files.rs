//! File descriptors and paths. There is no file system: the guest has
//! stdin (empty), stdout and stderr (both go to the host's print function),
//! and an empty, read-only tree of paths.
//!
//! - `read`/`readv` of fd 0 return 0 (end of file);
//! - `write`/`writev` to fd 1 or 2 print; the call returns the byte count;
//! - `close` of fd 0–2 succeeds (and leaves them usable);
//! - `ioctl` fails with `ENOTTY` (not a terminal), seeks and positioned
//!   reads and writes with `ESPIPE`, other calls on fd 0–2 with `ENOSYS`;
//! - any other fd fails with `EBADF`, and so does the wrong direction
//!   (reading fd 1, writing fd 0);
//! - nothing exists: looking a path up fails with `ENOENT` (open for reading
//!   or writing, stat, access, unlink, rename...), creating one with `EROFS`
//!   (open with `O_CREAT`, `creat`, `mkdir`, `mknod`, `symlink`).

use super::linux::errno::{EBADF, EFAULT, EINVAL, ENOENT, EROFS};
use super::linux::{IOV_MAX, O_CREATING};
use super::output::print_bytes;

/// C's `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Iovec {
    base: *const u8,
    len: usize,
}

/// Whether `fd` is one of stdin, stdout, stderr.
fn is_standard(fd: i64) -> bool {
    // File descriptors are C `int`s.
    (0..=2).contains(&(fd as i32))
}

/// Whether `fd` is stdout or stderr.
fn is_output(fd: i64) -> bool {
    matches!(fd as i32, 1 | 2)
}

/// A call on `fd` that has no other effect: `result` for fd 0–2, else `EBADF`.
pub(super) fn on_fd(fd: i64, result: i64) -> i64 {
    if is_standard(fd) { result } else { -EBADF }
}

/// `close(fd)`.
pub(super) fn close(fd: i64) -> i64 {
    on_fd(fd, 0)
}

/// `read(fd, buf, len)`: stdin is empty.
pub(super) fn read(fd: i64) -> i64 {
    if fd as i32 == 0 { 0 } else { -EBADF }
}

/// `readv(fd, iov, count)`: as [`read`], after checking `count`.
pub(super) fn readv(fd: i64, count: i64) -> i64 {
    if !(0..=IOV_MAX).contains(&count) { -EINVAL } else { read(fd) }
}

/// `write(fd, buf, len)`.
///
/// # Safety
/// `buf` must be valid for reading `len` bytes.
pub(super) unsafe fn write(fd: i64, buf: i64, len: i64) -> i64 {
    let piece = Iovec { base: core::ptr::with_exposed_provenance(buf as usize), len: len as usize };
    // SAFETY: one iovec describing our caller's buffer.
    unsafe { write_pieces(fd, 1, |_| piece) }
}

/// `writev(fd, iov, count)`.
///
/// # Safety
/// `iov` must be valid for reading `count` iovecs, each describing readable memory.
pub(super) unsafe fn writev(fd: i64, iov: i64, count: i64) -> i64 {
    if !(0..=IOV_MAX).contains(&count) {
        return -EINVAL;
    }
    let iov = core::ptr::with_exposed_provenance::<Iovec>(iov as usize);
    if iov.is_null() && count > 0 {
        return -EFAULT;
    }
    // SAFETY: per the caller; unaligned because C code may pass any address.
    unsafe { write_pieces(fd, count as usize, |i| iov.add(i).read_unaligned()) }
}

/// Writes the `count` pieces `piece(0..count)` to `fd` as one write;
/// returns the byte count.
///
/// # Safety
/// Every piece must describe readable memory.
unsafe fn write_pieces(fd: i64, count: usize, piece: impl Fn(usize) -> Iovec) -> i64 {
    /// Slices handed to `print_bytes` at a time (the stack stays small).
    const GROUP: usize = 8;
    if !is_output(fd) {
        return -EBADF;
    }
    let mut total: usize = 0;
    for p in (0..count).map(&piece) {
        if p.base.is_null() && p.len > 0 {
            return -EFAULT;
        }
        match total.checked_add(p.len).filter(|&t| t <= isize::MAX as usize) {
            Some(t) => total = t,
            None => return -EINVAL,
        }
    }
    for first in (0..count).step_by(GROUP) {
        let n = GROUP.min(count - first);
        let mut slices: [&[u8]; GROUP] = [&[]; GROUP];
        for (i, slice) in slices[..n].iter_mut().enumerate() {
            let p = piece(first + i);
            if p.len > 0 {
                // SAFETY: non-null (checked above) and readable per our caller.
                *slice = unsafe { core::slice::from_raw_parts(p.base, p.len) };
            }
        }
        print_bytes(&slices[..n]);
    }
    total as i64
}

/// `open(path, flags)`/`openat(dir, path, flags)`: creating is refused
/// (read-only), everything else finds nothing.
pub(super) fn open(flags: i64) -> i64 {
    if flags & O_CREATING != 0 { -EROFS } else { -ENOENT }
}

/// A call that would create a path.
pub(super) fn create() -> i64 {
    -EROFS
}

/// A call that looks a path up.
pub(super) fn look_up() -> i64 {
    -ENOENT
}
