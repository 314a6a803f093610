//! How C code ends a run: `exit` (after musl ran the `atexit` handlers and
//! flushed stdio) and the glue's `abort`, `__stack_chk_fail` and friends.

use core::ffi::c_char;
use core::fmt::{self, Display};

use crate::abi::ABORT_CODE_PANIC;
use crate::exit::abort_fmt;
use crate::print::Lossy;

/// The `exit`/`exit_group` system calls: the run ends as a guest abort
/// (`ABORT_CODE_PANIC`, "exit(N) called"). A guest function reports results
/// by returning; a C program that exits has stopped serving calls.
pub(super) fn exit(status: i64) -> ! {
    // The status is C's `int`.
    abort_fmt(ABORT_CODE_PANIC, format_args!("exit({}) called", status as i32))
}

/// The longest message [`__hl_abort`] reads, in bytes.
const MAX_MESSAGE_LEN: usize = 4096;

/// A C string shown as text: at most [`MAX_MESSAGE_LEN`] bytes, invalid
/// UTF-8 replaced.
struct CStrText(*const c_char);

impl Display for CStrText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_null() {
            return Ok(());
        }
        let start = self.0.cast::<u8>();
        let mut len = 0;
        // SAFETY: `__hl_abort`'s caller passes a NUL-terminated string; we
        // stop at its NUL or at the cap, whichever comes first.
        while len < MAX_MESSAGE_LEN && unsafe { start.add(len).read() } != 0 {
            len += 1;
        }
        // SAFETY: the `len` bytes just read.
        let bytes = unsafe { core::slice::from_raw_parts(start, len) };
        Display::fmt(&Lossy(bytes), f)
    }
}

/// Ends the run with abort `code` and `message` (a C string; null for none).
/// The C library's glue calls it for `abort()`, `__stack_chk_fail()` and the
/// like.
///
/// # Safety
/// `message` must be null or a NUL-terminated string (only its first 4096
/// bytes are read).
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn __hl_abort(code: u32, message: *const c_char) -> ! {
    abort_fmt(code, format_args!("{}", CStrText(message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(bytes: &[u8]) -> String {
        format!("{}", CStrText(bytes.as_ptr().cast()))
    }

    #[test]
    fn messages_are_bounded_text() {
        assert_eq!(text(b"abort() called\0"), "abort() called");
        assert_eq!(text(b"bad \xff byte\0"), "bad \u{fffd} byte");
        assert_eq!(format!("{}", CStrText(core::ptr::null())), "");
        let mut long = vec![b'x'; MAX_MESSAGE_LEN + 10];
        long.push(0);
        assert_eq!(text(&long).len(), MAX_MESSAGE_LEN, "no NUL within the cap: cut there");
    }
}
