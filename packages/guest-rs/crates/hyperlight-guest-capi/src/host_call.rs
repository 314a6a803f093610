//! Host functions called from C: `hl_call_host_v` over the runtime's
//! `call_host_value` (one host-call path, one encoder).

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_char;

use hyperlight_guest::__private::abort_fmt;
use hyperlight_guest::abi::{ABORT_CODE_PANIC, MAX_GUEST_FUNCTION_PARAMETERS};
use hyperlight_guest::{ErrorCode, ValueType, call_host_value};

use crate::run_memory::{self, hl_rt_fallback_message};
use crate::text::c_bytes;
use crate::types::{HL_ERROR_NONE, HL_TYPE_NONE, HlErrorCode, HlResult, HlType, HlValue, HlValueData};

/// An error result with `message` in run memory (cut into the fallback
/// buffer when the heap cannot hold it).
pub(crate) fn error_result(code: HlErrorCode, message: &str) -> HlResult {
    let text = run_memory::copy_text(message.as_bytes()).map_or_else(|| fallback(message), <[u8]>::as_ptr);
    HlResult { error: code, message: text.cast(), value: HlValue { ty: HL_TYPE_NONE, data: HlValueData { u64: 0 } } }
}

/// `message`, cut at a character boundary, NUL-terminated in the fallback buffer.
fn fallback(message: &str) -> *const u8 {
    let buffer = &raw mut hl_rt_fallback_message;
    let mut len = message.len().min(255);
    while !message.is_char_boundary(len) {
        len -= 1;
    }
    // SAFETY: single-threaded; the buffer holds 256 bytes and nothing
    // borrows it.
    unsafe {
        let dest = buffer.cast::<u8>();
        core::ptr::copy_nonoverlapping(message.as_ptr(), dest, len);
        dest.add(len).write(0);
        dest
    }
}

/// `hl_call_host_v`: calls host function `name` with `argc` arguments and
/// waits for its result; strings and bytes of the result are copied into
/// run memory. Invalid types are programming errors (`ABORT_CODE_PANIC`).
///
/// # Safety
/// `name` must be NUL-terminated; `args` must hold `argc` values whose
/// strings and bytes are valid.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_call_host_v(
    name: *const c_char,
    return_type: HlType,
    argc: usize,
    args: *const HlValue,
) -> HlResult {
    // SAFETY: per the caller.
    let name = String::from_utf8_lossy(unsafe { c_bytes(name) });
    let Some(returns) = u8::try_from(return_type).ok().and_then(ValueType::from_u8) else {
        abort_fmt(ABORT_CODE_PANIC, format_args!("hl_call_host(\"{name}\"): invalid return type {return_type}"))
    };
    if argc > MAX_GUEST_FUNCTION_PARAMETERS {
        return error_result(
            ErrorCode::WrongArgumentCount as HlErrorCode,
            &alloc::format!(
                "host function \"{name}\" called with {argc} arguments, at most {MAX_GUEST_FUNCTION_PARAMETERS} are allowed"
            ),
        );
    }
    let mut values = Vec::with_capacity(argc);
    for i in 0..argc {
        // SAFETY: `args` holds `argc` valid values (caller).
        let arg = unsafe { &*args.add(i) };
        // SAFETY: as above.
        match unsafe { arg.to_value() }.filter(|v| v.value_type() != ValueType::Void) {
            Some(value) => values.push(value),
            None => abort_fmt(
                ABORT_CODE_PANIC,
                format_args!("hl_call_host(\"{name}\"): argument {i} has invalid type {}", arg.ty),
            ),
        }
    }
    match call_host_value(&name, &values, returns) {
        Ok(value) => match HlValue::owned_copy(&value) {
            Some(value) => HlResult { error: HL_ERROR_NONE, message: core::ptr::null(), value },
            // No formatting: the heap is full.
            None => error_result(
                ErrorCode::OutOfMemory as HlErrorCode,
                "out of guest heap memory copying the result of a host function",
            ),
        },
        Err(e) => error_result(e.code as HlErrorCode, &e.message),
    }
}
