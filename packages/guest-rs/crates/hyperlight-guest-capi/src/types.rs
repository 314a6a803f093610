//! The C types of `hyperlight/guest.h` and `hyperlight/trace.h`, laid out
//! exactly as C lays them out (checked at compile time here and in
//! `c/variadic.c`), and their conversion to and from the runtime's [`Value`].

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_char;

use hyperlight_guest::{Value, ValueType};

use crate::run_memory;

/// `hl_type`: a `ValueType` number, or 0 (`HL_TYPE_NONE`).
pub(crate) type HlType = u32;
/// `HL_TYPE_NONE`.
pub(crate) const HL_TYPE_NONE: HlType = 0;

/// `hl_error_code`: an `ErrorCode` number, or 0 (`HL_ERROR_NONE`).
pub(crate) type HlErrorCode = u32;
/// `HL_ERROR_NONE`.
pub(crate) const HL_ERROR_NONE: HlErrorCode = 0;

/// Pointer and length of a string or bytes value.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct HlSlice {
    pub(crate) data: *const u8,
    pub(crate) len: usize,
}

/// The union of `hl_value`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union HlValueData {
    pub(crate) i32: i32,
    pub(crate) u32: u32,
    pub(crate) i64: i64,
    pub(crate) u64: u64,
    pub(crate) f32: f32,
    pub(crate) f64: f64,
    /// C `bool`, read as a byte (any non-zero byte is true).
    pub(crate) boolean: u8,
    pub(crate) slice: HlSlice,
}

/// `hl_value`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct HlValue {
    pub(crate) ty: HlType,
    pub(crate) data: HlValueData,
}

/// `hl_result`.
#[repr(C)]
pub(crate) struct HlResult {
    pub(crate) error: HlErrorCode,
    pub(crate) message: *const c_char,
    pub(crate) value: HlValue,
}

/// `hl_call`.
#[repr(C)]
pub(crate) struct HlCall {
    pub(crate) name: *const c_char,
    pub(crate) args: *const HlValue,
    pub(crate) argc: usize,
    pub(crate) return_type: HlType,
}

/// `hl_guest_fn`.
pub(crate) type HlGuestFn = unsafe extern "C" fn(call: *const HlCall) -> HlResult;

/// The union of `hl_trace_field`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) union HlTraceFieldData {
    pub(crate) str: HlSlice,
    pub(crate) i64: i64,
    pub(crate) u64: u64,
    pub(crate) f64: f64,
    pub(crate) b: u8,
}

/// `hl_trace_field`.
#[repr(C)]
pub(crate) struct HlTraceField {
    pub(crate) key: *const c_char,
    pub(crate) ty: u8,
    pub(crate) data: HlTraceFieldData,
}

// The sizes C gives these types on x86-64 (c/variadic.c asserts the same).
const _: () = assert!(size_of::<HlValue>() == 24 && size_of::<HlResult>() == 40);
const _: () = assert!(size_of::<HlCall>() == 32 && size_of::<HlTraceField>() == 32);

impl HlValue {
    /// A value of type `ty` with `data`.
    pub(crate) const fn new(ty: ValueType, data: HlValueData) -> Self {
        Self { ty: ty as HlType, data }
    }

    /// A string or bytes value over `bytes`.
    pub(crate) fn slice(ty: ValueType, bytes: &[u8]) -> Self {
        Self::new(ty, HlValueData { slice: HlSlice { data: bytes.as_ptr(), len: bytes.len() } })
    }

    /// The `ValueType` this value claims, if it is one.
    pub(crate) fn value_type(&self) -> Option<ValueType> {
        u8::try_from(self.ty).ok().and_then(ValueType::from_u8)
    }

    /// A copy of this C value as a [`Value`]; `None` when its type is not a
    /// value type. Text that is not UTF-8 gets U+FFFD for each bad sequence.
    ///
    /// # Safety
    /// A string or bytes value's pointer must be valid for `len` reads (or
    /// `len` be 0).
    pub(crate) unsafe fn to_value(self) -> Option<Value> {
        let d = self.data;
        let ty = self.value_type()?;
        // SAFETY: C wrote the union member that `ty` names (guest.h's
        // contract), every member is plain data, and the caller vouches for
        // the string or bytes pointer.
        Some(unsafe {
            match ty {
                ValueType::I32 => Value::I32(d.i32),
                ValueType::U32 => Value::U32(d.u32),
                ValueType::I64 => Value::I64(d.i64),
                ValueType::U64 => Value::U64(d.u64),
                ValueType::F32 => Value::F32(d.f32),
                ValueType::F64 => Value::F64(d.f64),
                ValueType::Bool => Value::Bool(d.boolean != 0),
                ValueType::String => Value::String(String::from_utf8_lossy(slice_of(d.slice)).into_owned()),
                ValueType::Bytes => Value::Bytes(Vec::from(slice_of(d.slice))),
                ValueType::Void => Value::Void,
            }
        })
    }

    /// `value` for C, borrowing a string's or bytes' buffer (a string is not
    /// NUL-terminated unless its buffer is).
    pub(crate) fn borrowed(value: &Value) -> Self {
        let data = match value {
            Value::I32(v) => HlValueData { i32: *v },
            Value::U32(v) => HlValueData { u32: *v },
            Value::I64(v) => HlValueData { i64: *v },
            Value::U64(v) => HlValueData { u64: *v },
            Value::F32(v) => HlValueData { f32: *v },
            Value::F64(v) => HlValueData { f64: *v },
            Value::Bool(v) => HlValueData { boolean: u8::from(*v) },
            Value::Void => HlValueData { u64: 0 },
            Value::String(s) => HlValueData { slice: HlSlice { data: s.as_ptr(), len: s.len() } },
            Value::Bytes(b) => HlValueData { slice: HlSlice { data: b.as_ptr(), len: b.len() } },
        };
        Self::new(value.value_type(), data)
    }

    /// `value` for C, its string or bytes copied into run memory (strings
    /// NUL-terminated, bytes at least one byte so `hl_result_free` has a
    /// block); `None` when the heap cannot hold the copy.
    pub(crate) fn owned_copy(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(Self::slice(ValueType::String, run_memory::copy_text(s.as_bytes())?)),
            Value::Bytes(b) => Some(Self::slice(ValueType::Bytes, run_memory::copy_bytes(b)?)),
            scalar => Some(Self::borrowed(scalar)),
        }
    }
}

/// The `len` bytes at `s.data` (empty when `len` is 0, whatever the pointer).
///
/// # Safety
/// `s.data` must be valid for `s.len` reads when `s.len` is not 0.
pub(crate) unsafe fn slice_of<'a>(s: HlSlice) -> &'a [u8] {
    if s.len == 0 || s.data.is_null() {
        &[]
    } else {
        // SAFETY: per the caller.
        unsafe { core::slice::from_raw_parts(s.data, s.len) }
    }
}
