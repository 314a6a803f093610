//! The runtime's side of the C library (cargo feature `libc`): what musl,
//! built for guests (`packages/guest-rs/libc`), calls into.
//!
//! - `__hl_syscall`, musl's only system call ([`syscall`]): stdout and
//!   stderr print, stdin is empty, there are no files, the time comes from
//!   the host's clock, `exit` ends the run;
//! - the `malloc` family over the runtime's heap ([`malloc`]);
//! - `__hl_abort`, through which the C library's `abort()` and
//!   `__stack_chk_fail` end the run ([`exit`]).
//!
//! In return the C library defines `__hl_libc_init`, which [`init`] calls
//! once, at `OP_INIT`, before the guest's own initialisation.
//!
//! The exported functions are `#[no_mangle]` symbols that only C code
//! references. rustc may hand this crate to the linker as an archive of
//! several objects (a build without LTO) placed before `libc.a` on the link
//! line; GNU ld links an archive member only when something already linked
//! needs it, and does not go back to earlier archives. So [`init`], which
//! the entry point calls, reads [`EXPORTS`], and that table pulls in every
//! object defining an export before `libc.a` is searched. (Current rustc
//! also lists exported symbols in an object of its own and links with lld,
//! which searches archives in any order; the table does not rely on either.)

mod exit;
mod files;
mod linux;
mod malloc;
mod output;
mod syscall;
mod time;

#[cfg(test)]
mod tests;

/// Addresses of every function the C library may call (see the module docs).
#[cfg(not(test))]
struct Exports(#[allow(dead_code)] [*const (); 15]);

// SAFETY: the table is never written, and nothing is called through it.
#[cfg(not(test))]
unsafe impl Sync for Exports {}

#[cfg(not(test))]
static EXPORTS: Exports = Exports([
    syscall::__hl_syscall as *const (),
    exit::__hl_abort as *const (),
    malloc::malloc as *const (),
    malloc::calloc as *const (),
    malloc::realloc as *const (),
    malloc::free as *const (),
    malloc::aligned_alloc as *const (),
    malloc::posix_memalign as *const (),
    malloc::memalign as *const (),
    malloc::malloc_usable_size as *const (),
    malloc::__libc_malloc as *const (),
    malloc::__libc_malloc_impl as *const (),
    malloc::__libc_calloc as *const (),
    malloc::__libc_realloc as *const (),
    malloc::__libc_free as *const (),
]);

/// Initialises the C library (musl's thread block, stack-protector guard,
/// line-buffered stdout: `__hl_libc_init` in its glue). The entry point calls
/// this once, at `OP_INIT`, after the heap is ready and before the guest's
/// init code. Unit tests have no C library: nothing happens.
pub(crate) fn init() {
    #[cfg(not(test))]
    {
        unsafe extern "C" {
            /// Defined by the C library's glue.
            fn __hl_libc_init();
        }
        core::hint::black_box(&EXPORTS);
        // SAFETY: called once, on the guest's only thread, with the heap ready.
        unsafe { __hl_libc_init() };
    }
}

/// Sends what C code left in stdout's line buffer to the host's print
/// (`__hl_libc_flush` in the glue). The runtime calls this before it writes
/// a message into the output buffer, which print frames share, and exits
/// (host call, result, abort), so the host sees C's output in order and
/// none is lost. Unit tests have no C library: nothing happens.
pub(crate) fn flush_output() {
    #[cfg(not(test))]
    {
        unsafe extern "C" {
            /// Defined by the C library's glue.
            fn __hl_libc_flush();
        }
        // SAFETY: the glue guards against being re-entered from the print path.
        unsafe { __hl_libc_flush() };
    }
}
