//! Values and results for C: copies into run memory, type names, argument
//! accessors.

use core::ffi::{c_char, c_void};

use hyperlight_guest::ValueType;
use hyperlight_guest::__private::abort_fmt;
use hyperlight_guest::abi::{ABORT_CODE_OUT_OF_MEMORY, ABORT_CODE_PANIC};

use crate::run_memory::{copy_bytes, copy_text, hl_run_free};
use crate::text::{c_bytes, c_str};
use crate::types::{HL_ERROR_NONE, HL_TYPE_NONE, HlCall, HlResult, HlSlice, HlType, HlValue, HlValueData, slice_of};

fn out_of_memory(what: &str, len: usize) -> ! {
    abort_fmt(ABORT_CODE_OUT_OF_MEMORY, format_args!("out of guest heap memory copying {len} bytes of {what}"))
}

/// `hl_string_copy`: a string value holding a copy of `s` in run memory.
///
/// # Safety
/// `s` must be a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_string_copy(s: *const c_char) -> HlValue {
    // SAFETY: per the caller.
    let text = unsafe { c_bytes(s) };
    let copy = copy_text(text).unwrap_or_else(|| out_of_memory("a string", text.len()));
    HlValue::slice(ValueType::String, copy)
}

/// `hl_bytes_copy`: a bytes value holding a copy of `len` bytes at `data`.
///
/// # Safety
/// `data` must be valid for `len` reads (or `len` be 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_bytes_copy(data: *const c_void, len: usize) -> HlValue {
    // SAFETY: per the caller.
    let bytes = unsafe { slice_of(HlSlice { data: data.cast(), len }) };
    let copy = copy_bytes(bytes).unwrap_or_else(|| out_of_memory("bytes", len));
    HlValue::slice(ValueType::Bytes, copy)
}

/// The name of `ty` ("none" for numbers that are not a type), NUL-terminated.
fn type_name(ty: HlType) -> &'static [u8] {
    match u8::try_from(ty).ok().and_then(ValueType::from_u8) {
        Some(ValueType::I32) => b"i32\0",
        Some(ValueType::U32) => b"u32\0",
        Some(ValueType::I64) => b"i64\0",
        Some(ValueType::U64) => b"u64\0",
        Some(ValueType::F32) => b"f32\0",
        Some(ValueType::F64) => b"f64\0",
        Some(ValueType::String) => b"string\0",
        Some(ValueType::Bool) => b"bool\0",
        Some(ValueType::Bytes) => b"bytes\0",
        Some(ValueType::Void) => b"void\0",
        None => b"none\0",
    }
}

/// The name of `ty` as text.
pub(crate) fn type_name_str(ty: HlType) -> &'static str {
    let name = type_name(ty);
    core::str::from_utf8(&name[..name.len() - 1]).unwrap_or_default()
}

/// `hl_type_name`: the wire name of a type ("i32", "string", ...; "none"
/// for numbers that are not a type).
#[unsafe(no_mangle)]
pub extern "C" fn hl_type_name(ty: HlType) -> *const c_char {
    type_name(ty).as_ptr().cast()
}

/// `hl_result_free`: frees the run memory behind a result's message, string
/// or bytes and clears it.
///
/// # Safety
/// `r` must point to a result whose pointers come from the C API.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_result_free(r: *mut HlResult) {
    // SAFETY: per the caller; the union member read is the one `ty` names.
    unsafe {
        let result = &mut *r;
        if result.error != HL_ERROR_NONE {
            hl_run_free(result.message.cast_mut().cast());
        } else if matches!(result.value.value_type(), Some(ValueType::String | ValueType::Bytes)) {
            hl_run_free(result.value.data.slice.data.cast_mut().cast());
        }
        r.write(HlResult {
            error: HL_ERROR_NONE,
            message: core::ptr::null(),
            value: HlValue { ty: HL_TYPE_NONE, data: HlValueData { u64: 0 } },
        });
    }
}

/// Argument `i` of `call`, which must be of type `ty`: a handler that reads
/// past the arguments or with the wrong accessor aborts with
/// `ABORT_CODE_PANIC` (the runtime checked the call against the signature).
///
/// # Safety
/// `call` must be the call the runtime passed to the handler.
unsafe fn arg<'a>(call: *const HlCall, i: usize, ty: ValueType) -> &'a HlValue {
    // SAFETY: per the caller: `args` holds `argc` values and `name` is a
    // NUL-terminated name, all living until the handler returns.
    unsafe {
        let call = &*call;
        let name = c_str(call.name);
        if i >= call.argc {
            abort_fmt(
                ABORT_CODE_PANIC,
                format_args!("function \"{name}\" has {} arguments, handler asked for argument {i}", call.argc),
            );
        }
        let value = &*call.args.add(i);
        if value.ty != ty as HlType {
            abort_fmt(
                ABORT_CODE_PANIC,
                format_args!(
                    "argument {i} of function \"{name}\" is {}, handler read it as {}",
                    type_name_str(value.ty),
                    ty
                ),
            );
        }
        value
    }
}

macro_rules! scalar_accessors {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = $variant:ident . $field:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        /// `call` must be the call the runtime passed to the handler.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name(call: *const HlCall, i: usize) -> $ty {
            // SAFETY: per the caller; `arg` checked the type, so the member
            // read is the one C wrote.
            unsafe { arg(call, i, ValueType::$variant).data.$field }
        }
    )*};
}

scalar_accessors! {
    /// `hl_arg_i32`.
    hl_arg_i32: i32 = I32.i32;
    /// `hl_arg_u32`.
    hl_arg_u32: u32 = U32.u32;
    /// `hl_arg_i64`.
    hl_arg_i64: i64 = I64.i64;
    /// `hl_arg_u64`.
    hl_arg_u64: u64 = U64.u64;
    /// `hl_arg_f32`.
    hl_arg_f32: f32 = F32.f32;
    /// `hl_arg_f64`.
    hl_arg_f64: f64 = F64.f64;
}

/// `hl_arg_bool`.
///
/// # Safety
/// `call` must be the call the runtime passed to the handler.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_arg_bool(call: *const HlCall, i: usize) -> bool {
    // SAFETY: per the caller; the type is checked.
    unsafe { arg(call, i, ValueType::Bool).data.boolean != 0 }
}

/// Pointer and length of a string or bytes argument.
///
/// # Safety
/// `call` must be the call the runtime passed to the handler; `len` null or
/// writable.
unsafe fn slice_arg(call: *const HlCall, i: usize, len: *mut usize, ty: ValueType) -> *const u8 {
    // SAFETY: per the caller; the type is checked, so `slice` is the member.
    unsafe {
        let s = arg(call, i, ty).data.slice;
        if !len.is_null() {
            len.write(s.len);
        }
        s.data
    }
}

/// `hl_arg_string`: argument `i` as a NUL-terminated string.
///
/// # Safety
/// `call` must be the call the runtime passed to the handler; `len` null or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_arg_string(call: *const HlCall, i: usize, len: *mut usize) -> *const c_char {
    // SAFETY: per the caller.
    unsafe { slice_arg(call, i, len, ValueType::String).cast() }
}

/// `hl_arg_bytes`: argument `i`'s bytes.
///
/// # Safety
/// `call` must be the call the runtime passed to the handler; `len` null or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_arg_bytes(call: *const HlCall, i: usize, len: *mut usize) -> *const u8 {
    // SAFETY: per the caller.
    unsafe { slice_arg(call, i, len, ValueType::Bytes) }
}
