//! The C library's side of the runtime, driven through the fake host: the
//! system-call table, the `malloc` family and the ways C ends a run.

use core::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::linux::errno::*;
use super::linux::nr;
use super::malloc::*;
use super::syscall::syscall;
use crate::abi::ABORT_CODE_PANIC;
use crate::heap::ALLOCATOR;
use crate::test_host::{Exit, FakeHost, Sizes};

unsafe extern "C" {
    /// The test process's C library's errno, which `malloc` & co. set here.
    fn __errno_location() -> *mut c_int;
}

fn errno() -> c_int {
    // SAFETY: the C library's errno of this thread.
    unsafe { *__errno_location() }
}

fn clear_errno() {
    // SAFETY: as above.
    unsafe { *__errno_location() = 0 };
}

/// An initialised fake sandbox (the heap, the environment) with a 64 KiB heap.
fn sandbox() -> FakeHost {
    let mut host = FakeHost::with(Sizes { heap: 64 * 1024, ..Sizes::default() }, Vec::new());
    host.init();
    host
}

/// How `f` ended the run (it must end it).
fn final_exit(f: impl FnOnce()) -> Exit {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the run ended");
    *payload.downcast::<Exit>().expect("an exit of the fake host")
}

fn call(n: i64, a1: i64, a2: i64, a3: i64) -> i64 {
    // SAFETY: the tests pass valid buffers (or none).
    unsafe { syscall(n, a1, a2, a3) }
}

fn addr<T>(p: *const T) -> i64 {
    p as i64
}

#[test]
fn writes_to_stdout_and_stderr_print_one_frame_each() {
    let host = sandbox();
    let before = host.prints().len();
    let text = b"hello, ";
    assert_eq!(call(nr::WRITE, 1, addr(text.as_ptr()), 7), 7);
    let pieces: [(*const u8, usize); 3] = [(b"wor".as_ptr(), 3), (core::ptr::null(), 0), (b"ld\n".as_ptr(), 3)];
    assert_eq!(call(nr::WRITEV, 2, addr(pieces.as_ptr()), 3), 6);
    assert_eq!(call(nr::WRITE, 1, 0, 0), 0, "an empty write sends nothing");
    assert_eq!(host.prints()[before..], ["hello, ", "world\n"]);
}

#[test]
fn bad_writes_fail_without_printing() {
    let host = sandbox();
    let before = host.prints().len();
    let buf = b"x";
    assert_eq!(call(nr::WRITE, 0, addr(buf.as_ptr()), 1), -EBADF, "stdin is read-only");
    assert_eq!(call(nr::WRITE, 7, addr(buf.as_ptr()), 1), -EBADF);
    assert_eq!(call(nr::WRITE, 1, 0, 5), -EFAULT);
    assert_eq!(call(nr::WRITE, 1, addr(buf.as_ptr()), -1), -EINVAL, "more than isize::MAX bytes");
    assert_eq!(call(nr::WRITEV, 1, 0, 1), -EFAULT);
    assert_eq!(call(nr::WRITEV, 1, addr(buf.as_ptr()), 1025), -EINVAL);
    assert_eq!(call(nr::WRITEV, 1, addr(buf.as_ptr()), -1), -EINVAL);
    let huge: [(*const u8, usize); 2] = [(buf.as_ptr(), usize::MAX / 2), (buf.as_ptr(), usize::MAX / 2)];
    assert_eq!(call(nr::WRITEV, 1, addr(huge.as_ptr()), 2), -EINVAL, "lengths that overflow");
    assert_eq!(host.prints().len(), before);
}

#[test]
fn descriptors_and_paths_answer_per_the_table() {
    let _host = sandbox();
    assert_eq!(call(nr::READ, 0, 0, 10), 0, "stdin is at its end");
    assert_eq!(call(nr::READV, 0, 0, 2), 0);
    assert_eq!(call(nr::READV, 0, 0, 5000), -EINVAL);
    assert_eq!(call(nr::READ, 1, 0, 10), -EBADF);
    assert_eq!(call(nr::READ, 3, 0, 10), -EBADF);
    assert_eq!(call(nr::CLOSE, 2, 0, 0), 0);
    assert_eq!(call(nr::CLOSE, 3, 0, 0), -EBADF);
    assert_eq!(call(nr::IOCTL, 1, 0x5413, 0), -ENOTTY);
    assert_eq!(call(nr::IOCTL, 9, 0x5413, 0), -EBADF);
    assert_eq!(call(nr::LSEEK, 1, 0, 0), -ESPIPE);
    assert_eq!(call(nr::FSTAT, 1, 0, 0), -ENOSYS);
    assert_eq!(call(nr::FSTAT, -1, 0, 0), -EBADF);
    assert_eq!(call(nr::FSTAT, 1 << 32, 0, 0), -ENOSYS, "descriptors are C ints");
    let path = c"/etc/passwd";
    assert_eq!(call(nr::OPEN, addr(path.as_ptr()), 0, 0), -ENOENT);
    assert_eq!(call(nr::OPEN, addr(path.as_ptr()), 1, 0), -ENOENT, "nothing exists to be written");
    assert_eq!(call(nr::OPEN, addr(path.as_ptr()), 0o1101, 0o644), -EROFS, "O_CREAT|O_TRUNC|O_WRONLY");
    assert_eq!(call(nr::OPENAT, -100, addr(path.as_ptr()), 0o2), -ENOENT);
    assert_eq!(call(nr::OPENAT, -100, addr(path.as_ptr()), 0o20200002), -EROFS, "O_TMPFILE");
    assert_eq!(call(nr::MKDIR, addr(path.as_ptr()), 0o755, 0), -EROFS);
    assert_eq!(call(nr::UNLINK, addr(path.as_ptr()), 0, 0), -ENOENT);
    assert_eq!(call(nr::RENAMEAT2, -100, addr(path.as_ptr()), -100), -ENOENT);
    assert_eq!(call(nr::GETCWD, 0, 0, 0), -ENOENT);
    assert_eq!(call(nr::GETPID, 0, 0, 0), 1);
    assert_eq!(call(nr::GETTID, 0, 0, 0), 1);
    assert_eq!(call(nr::GETEUID, 0, 0, 0), 0);
    assert_eq!(call(9, 0, 4096, 3), -ENOSYS, "mmap");
    assert_eq!(call(-1, 0, 0, 0), -ENOSYS);
    assert_eq!(call(i64::MAX, 0, 0, 0), -ENOSYS);
}

#[test]
fn clock_gettime_reads_the_host_clock_it_names() {
    let mut host = sandbox();
    host.set_clock(|id| [1_700_000_000_123_456_789, 42_000_000_007, 5][id as usize]);
    let mut ts = [0i64; 2];
    let out = addr(ts.as_mut_ptr());
    for (clock, expected) in
        [(0, [1_700_000_000, 123_456_789]), (1, [42, 7]), (2, [0, 5]), (5, [1_700_000_000, 123_456_789])]
    {
        assert_eq!(call(nr::CLOCK_GETTIME, clock, out, 0), 0);
        assert_eq!(ts, expected, "clock {clock}");
    }
    assert_eq!(host.clock_reads(), [0, 1, 2, 0]);
    assert_eq!(call(nr::CLOCK_GETTIME, 11, out, 0), -EINVAL, "CLOCK_TAI is not served");
    assert_eq!(call(nr::CLOCK_GETTIME, -7, out, 0), -EINVAL);
    assert_eq!(call(nr::CLOCK_GETTIME, 0, 0, 0), -EFAULT);
    assert_eq!(host.clock_reads().len(), 4, "failed calls make no exit");
    assert_eq!(call(nr::CLOCK_GETRES, 1, out, 0), 0);
    assert_eq!(ts, [0, 1]);
    assert_eq!(call(nr::CLOCK_GETRES, 1, 0, 0), 0);
    assert_eq!(call(nr::CLOCK_GETRES, 99, out, 0), -EINVAL);
}

#[test]
fn exit_ends_the_run_as_an_abort() {
    let _host = sandbox();
    let exit = final_exit(|| {
        call(nr::EXIT_GROUP, 3, 0, 0);
    });
    assert_eq!(exit, Exit::Abort { code: ABORT_CODE_PANIC, message: "exit(3) called".into() });
    let exit = final_exit(|| {
        call(nr::EXIT, 0xffff_ffff, 0, 0);
    });
    assert_eq!(exit, Exit::Abort { code: ABORT_CODE_PANIC, message: "exit(-1) called".into() });
}

#[test]
fn malloc_family_hands_out_aligned_usable_blocks() {
    let _host = sandbox();
    let whole = ALLOCATOR.stats();
    let p = malloc(100);
    assert!(!p.is_null() && p as usize % 16 == 0);
    // SAFETY: live blocks of the sizes asked for.
    unsafe {
        assert_eq!(malloc_usable_size(p), 112);
        p.cast::<u8>().write_bytes(0xab, 112);
        let z = calloc(10, 10);
        assert!(core::slice::from_raw_parts(z.cast::<u8>(), 100).iter().all(|&b| b == 0));
        let empty = malloc(0);
        assert!(!empty.is_null() && empty != p && empty != z, "malloc(0) is a unique pointer");
        assert_eq!(malloc_usable_size(empty), 0);
        assert_eq!(malloc_usable_size(core::ptr::null_mut()), 0);
        for align in [16, 32, 256, 4096] {
            let a = aligned_alloc(align, 24);
            assert_eq!(a as usize % align, 0, "aligned_alloc({align})");
            let m = memalign(align, 8);
            assert_eq!(m as usize % align, 0, "memalign({align})");
            let mut q = core::ptr::null_mut();
            assert_eq!(posix_memalign(&mut q, align, 1), 0);
            assert_eq!(q as usize % align, 0, "posix_memalign({align})");
            free(a);
            free(m);
            free(q);
        }
        free(p);
        free(z);
        free(empty);
        free(core::ptr::null_mut());
    }
    assert_eq!(ALLOCATOR.stats(), whole, "everything went back to the heap");
}

#[test]
fn failures_return_null_with_errno() {
    let _host = sandbox();
    let whole = ALLOCATOR.stats();
    clear_errno();
    assert!(malloc(1 << 20).is_null());
    assert_eq!(errno(), ENOMEM);
    clear_errno();
    assert!(malloc(usize::MAX - 8).is_null(), "sizes that overflow");
    assert_eq!(errno(), ENOMEM);
    clear_errno();
    assert!(calloc(usize::MAX / 2, 3).is_null());
    assert_eq!(errno(), ENOMEM);
    clear_errno();
    assert!(aligned_alloc(24, 8).is_null());
    assert_eq!(errno(), 22);
    let mut q = core::ptr::dangling_mut::<c_void>();
    // SAFETY: `q` is a valid place for the result.
    unsafe {
        assert_eq!(posix_memalign(&mut q, 4, 8), 22, "less than sizeof(void *)");
        assert_eq!(posix_memalign(&mut q, 48, 8), 22);
        clear_errno();
        assert_eq!(posix_memalign(&mut q, 64, 1 << 20), ENOMEM);
        assert_eq!(errno(), 0, "posix_memalign leaves errno alone");
    }
    assert_eq!(q, core::ptr::dangling_mut(), "untouched on failure");
    assert_eq!(ALLOCATOR.stats(), whole);
}

#[test]
fn realloc_grows_in_place_moves_and_keeps_contents() {
    let _host = sandbox();
    let whole = ALLOCATOR.stats();
    // SAFETY: live blocks, used within their sizes.
    unsafe {
        let fresh = realloc(core::ptr::null_mut(), 0);
        assert!(!fresh.is_null(), "realloc(NULL, n) allocates");
        free(fresh);
        let p = malloc(32).cast::<u8>();
        for i in 0..32 {
            p.add(i).write(i as u8);
        }
        let grown = realloc(p.cast(), 1000).cast::<u8>();
        assert_eq!(grown, p, "the free space after it is taken in place");
        let blocker = malloc(16);
        let moved = realloc(grown.cast(), 5000).cast::<u8>();
        assert_ne!(moved, p);
        assert!((0..32).all(|i| moved.add(i).read() == i as u8), "contents moved");
        clear_errno();
        assert!(realloc(moved.cast(), 1 << 20).is_null());
        assert_eq!(errno(), ENOMEM);
        assert_eq!(moved.read(), 0, "a failed realloc leaves the block usable");
        let kept = realloc(moved.cast(), 0);
        assert_eq!(kept, moved.cast(), "realloc(p, 0) keeps a zero-byte block");
        assert_eq!(malloc_usable_size(kept), 0);
        free(kept);
        free(blocker);
    }
    assert_eq!(ALLOCATOR.stats(), whole);
}

/// Checks that `f` aborts the run for the pointer `at`, as C function `what`.
fn assert_rejected(what: &str, at: usize, f: impl FnOnce()) {
    let message = format!("{what}(): invalid pointer or double free ({at:#x})");
    assert_eq!(final_exit(f), Exit::Abort { code: ABORT_CODE_PANIC, message });
}

#[test]
fn bad_frees_abort_the_run() {
    let _host = sandbox();
    let p = malloc(64);
    let q = malloc(64);
    // SAFETY: a live block.
    unsafe { free(p) };
    // The Rust functions behind the exports are called: an abort must not
    // unwind through `extern "C"`. The runtime rejects each pointer before
    // touching the heap.
    // SAFETY: see above.
    assert_rejected("free", p as usize, || unsafe { release(p) });
    let inside = q.wrapping_byte_add(16);
    // SAFETY: see above.
    assert_rejected("free", inside as usize, || unsafe { release(inside) });
    // SAFETY: see above.
    assert_rejected("realloc", p as usize, || unsafe {
        resize(p, 10);
    });
    let outside = 0x1000 as *mut c_void;
    // SAFETY: see above.
    assert_rejected("free", 0x1000, || unsafe { release(outside) });
    assert_rejected("malloc_usable_size", p as usize, || {
        usable_size(p);
    });
    // SAFETY: still a live block: the aborts above changed nothing.
    unsafe { free(q) };
}
