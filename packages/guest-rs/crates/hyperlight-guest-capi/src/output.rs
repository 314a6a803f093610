//! Exits, printing, aborting and logging for C.

use core::ffi::c_char;

use hyperlight_guest::LogLevel;
use hyperlight_guest::__private::{abort_fmt, out32};
use hyperlight_guest::log::{log_enabled, log_fmt};
use hyperlight_guest::print::{Lossy, print_bytes};

use crate::text::{c_bytes, c_str};
use crate::types::{HlSlice, slice_of};

/// `hl_outl`: `out dx, eax` to `port`.
#[unsafe(no_mangle)]
pub extern "C" fn hl_outl(port: u16, value: u32) {
    out32(port, value);
}

/// `hl_print_n`: prints `len` bytes of text.
///
/// # Safety
/// `text` must be valid for `len` reads (or `len` be 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_print_n(text: *const c_char, len: usize) {
    // SAFETY: per the caller.
    print_bytes(unsafe { slice_of(HlSlice { data: text.cast(), len }) });
}

/// `hl_print`: prints a NUL-terminated string.
///
/// # Safety
/// `text` must be NUL-terminated (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_print(text: *const c_char) {
    // SAFETY: per the caller.
    print_bytes(unsafe { c_bytes(text) });
}

/// `hl_abort`: ends the run with `code` and `message` (null: none).
///
/// # Safety
/// `message` must be NUL-terminated (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_abort(code: u32, message: *const c_char) -> ! {
    // SAFETY: per the caller.
    abort_fmt(code, format_args!("{}", Lossy(unsafe { c_bytes(message) })))
}

/// `hl_log_enabled`: whether a record at `level` would be written.
#[unsafe(no_mangle)]
pub extern "C" fn hl_log_enabled(level: u32) -> bool {
    level_of(level).is_some_and(log_enabled)
}

/// The log level numbered `level`, if there is one.
pub(crate) fn level_of(level: u32) -> Option<LogLevel> {
    u8::try_from(level).ok().and_then(LogLevel::from_u8)
}

/// Writes one log record whose message `c/variadic.c` formatted (`hl_vlog`
/// checked `hl_log_enabled` first); `target` and `file` may be null.
///
/// # Safety
/// `target` and `file` must be NUL-terminated (or null), `message` valid for
/// `len` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_rt_log(
    level: u32,
    target: *const c_char,
    file: *const c_char,
    line: u32,
    message: *const c_char,
    len: usize,
) {
    let Some(level) = level_of(level) else { return };
    // SAFETY: per the caller.
    let (target, file, message) =
        unsafe { (c_str(target), c_str(file), slice_of(HlSlice { data: message.cast(), len })) };
    log_fmt(level, target, file, line, format_args!("{}", Lossy(message)));
}
