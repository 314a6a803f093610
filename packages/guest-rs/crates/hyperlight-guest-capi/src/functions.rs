//! Guest functions written in C: `hl_register_function_v`, and the handler
//! each one gets in the runtime's table.
//!
//! ```text
//! Args (checked by the runtime) --strings NUL-terminated in place--> hl_value[] --> C handler
//! hl_result --copied--> Value or GuestError --> run memory released --> runtime encodes it
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_char;

use hyperlight_guest::__private::abort_fmt;
use hyperlight_guest::abi::{ABORT_CODE_PANIC, MAX_GUEST_FUNCTION_PARAMETERS};
use hyperlight_guest::{Args, ErrorCode, GuestError, Value, ValueType, register_function};

use crate::run_memory;
use crate::text::c_bytes;
use crate::types::{HL_ERROR_NONE, HlCall, HlGuestFn, HlResult, HlType, HlValue};
use crate::values::type_name_str;

/// `hl_register_function_v`: adds a C guest function while
/// `hyperlight_main` runs. Misuse aborts with `ABORT_CODE_PANIC`.
///
/// # Safety
/// `name` must be a NUL-terminated string and `param_types` hold
/// `param_count` types (when `param_count` is at most the maximum).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_register_function_v(
    name: *const c_char,
    handler: Option<HlGuestFn>,
    return_type: HlType,
    param_count: usize,
    param_types: *const HlType,
) {
    // SAFETY: per the caller.
    let name_bytes = unsafe { c_bytes(name) };
    let Ok(name) = core::str::from_utf8(name_bytes) else {
        misuse(format_args!("hl_register_function: the name is not UTF-8"))
    };
    let Some(handler) = handler else { misuse(format_args!("hl_register_function(\"{name}\"): the handler is NULL")) };
    let Some(returns) = u8::try_from(return_type).ok().and_then(ValueType::from_u8) else {
        misuse(format_args!("hl_register_function(\"{name}\"): invalid return type {return_type}"))
    };
    if param_count > MAX_GUEST_FUNCTION_PARAMETERS {
        misuse(format_args!(
            "hl_register_function(\"{name}\"): {param_count} parameters, at most {MAX_GUEST_FUNCTION_PARAMETERS} are allowed"
        ));
    }
    let mut params = [ValueType::Void; MAX_GUEST_FUNCTION_PARAMETERS];
    for (i, slot) in params[..param_count].iter_mut().enumerate() {
        // SAFETY: `param_types` holds `param_count` entries (caller).
        let ty = unsafe { param_types.add(i).read() };
        *slot = match u8::try_from(ty).ok().and_then(ValueType::from_u8) {
            Some(t) if t != ValueType::Void => t,
            _ => misuse(format_args!("hl_register_function(\"{name}\"): parameter {i} has invalid type {ty}")),
        };
    }
    let mut c_name = Vec::with_capacity(name_bytes.len() + 1);
    c_name.extend_from_slice(name_bytes);
    c_name.push(0);
    let c_name: &'static [u8] = c_name.leak();
    let registered = register_function(name, &params[..param_count], returns, move |args| {
        // SAFETY: `handler` is the guest's C function for this signature.
        unsafe { call_c(c_name, handler, returns, args) }
    });
    if let Err(e) = registered {
        misuse(format_args!("hl_register_function(\"{name}\"): {e}"));
    }
}

/// A programming error in the guest's use of the API.
fn misuse(message: core::fmt::Arguments<'_>) -> ! {
    abort_fmt(ABORT_CODE_PANIC, message)
}

/// Runs C handler `handler` (registered as `c_name`, returning `returns`)
/// with `args`, and turns its result into the runtime's.
///
/// # Safety
/// `handler` must be a C function of the `hl_guest_fn` type.
unsafe fn call_c(c_name: &'static [u8], handler: HlGuestFn, returns: ValueType, args: Args) -> Result<Value, GuestError> {
    let mut values = args.into_values();
    // NUL-terminate strings in their own buffers (no extra copy); `len`
    // below leaves the NUL out.
    for value in &mut values {
        if let Value::String(s) = value {
            s.push('\0');
        }
    }
    let c_args: Vec<HlValue> = values.iter().map(c_arg).collect();
    let call = HlCall { name: c_name.as_ptr().cast(), args: c_args.as_ptr(), argc: c_args.len(), return_type: returns as HlType };
    // SAFETY: per the caller; `call` and everything it points to outlive it.
    let result = unsafe { handler(&call) };
    // SAFETY: what a C handler returns points at memory that is valid until
    // run memory is released (or longer), guest.h's contract.
    let outcome = unsafe { rust_result(&result, &call) };
    drop(c_args);
    drop(values);
    run_memory::release_all();
    outcome
}

/// An argument for C, borrowing `value` (a string already ends in a NUL,
/// which its length leaves out).
fn c_arg(value: &Value) -> HlValue {
    let mut arg = HlValue::borrowed(value);
    if let Value::String(_) = value {
        // SAFETY: `slice` is the member `borrowed` wrote for a string.
        unsafe { arg.data.slice.len -= 1 };
    }
    arg
}

/// The runtime's view of a C handler's result. A value of a type that does
/// not exist aborts with `ABORT_CODE_PANIC`; one of another type than
/// declared is caught by the runtime.
///
/// # Safety
/// `result`'s pointers must be valid (see [`call_c`]).
unsafe fn rust_result(result: &HlResult, call: &HlCall) -> Result<Value, GuestError> {
    if result.error != HL_ERROR_NONE {
        // SAFETY: per the caller.
        let message = String::from_utf8_lossy(unsafe { c_bytes(result.message) }).into_owned();
        let code = ErrorCode::from_u32(result.error).unwrap_or(ErrorCode::GuestFunctionFailed);
        return Err(GuestError::with_code(code, message));
    }
    // SAFETY: per the caller.
    match unsafe { result.value.to_value() } {
        Some(value) => Ok(value),
        None => {
            // SAFETY: the name we passed is NUL-terminated.
            let name = crate::text::utf8_prefix(unsafe { c_bytes(call.name) });
            abort_fmt(
                ABORT_CODE_PANIC,
                format_args!(
                    "function \"{name}\" is declared to return {} but its handler returned {}",
                    type_name_str(call.return_type),
                    type_name_str(result.value.ty)
                ),
            )
        }
    }
}
