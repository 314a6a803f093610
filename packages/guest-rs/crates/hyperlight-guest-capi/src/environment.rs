//! Read-only views of the run's environment: `hl_init_data`, `hl_get_peb`.

use core::ffi::c_void;

use hyperlight_guest::abi::Peb;

/// `hl_init_data`: the init data blob, or null (size 0) when there is none.
///
/// # Safety
/// `size` must be null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_init_data(size: *mut usize) -> *const c_void {
    let data = hyperlight_guest::init_data();
    if !size.is_null() {
        // SAFETY: per the caller.
        unsafe { size.write(data.len()) };
    }
    if data.is_empty() { core::ptr::null() } else { data.as_ptr().cast() }
}

/// `hl_get_peb`: the PEB of the current run.
#[unsafe(no_mangle)]
pub extern "C" fn hl_get_peb() -> *const Peb {
    hyperlight_guest::__private::current_peb()
}
