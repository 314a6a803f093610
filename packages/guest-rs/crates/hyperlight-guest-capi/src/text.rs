//! C strings as Rust text.

use core::ffi::{CStr, c_char};

/// The bytes of the NUL-terminated `s` (empty for null).
///
/// # Safety
/// `s` must be null or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn c_bytes<'a>(s: *const c_char) -> &'a [u8] {
    if s.is_null() {
        return &[];
    }
    // SAFETY: per the caller.
    unsafe { CStr::from_ptr(s) }.to_bytes()
}

/// The longest UTF-8 prefix of `bytes`: names, targets and keys must be
/// UTF-8, and anything after a bad byte is left out.
pub(crate) fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        // SAFETY: `valid_up_to` bytes were just checked to be UTF-8.
        Err(e) => unsafe { core::str::from_utf8_unchecked(&bytes[..e.valid_up_to()]) },
    }
}

/// [`utf8_prefix`] of the NUL-terminated `s`.
///
/// # Safety
/// As [`c_bytes`].
pub(crate) unsafe fn c_str<'a>(s: *const c_char) -> &'a str {
    // SAFETY: per the caller.
    utf8_prefix(unsafe { c_bytes(s) })
}
