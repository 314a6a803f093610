//! Typed field values (`TRACE_FIELD_*`).

use alloc::string::String;
use core::fmt;

/// A field value as it is recorded.
#[derive(Clone, Copy)]
pub enum FieldValue<'a> {
    /// `TRACE_FIELD_STRING`, cut to `TRACE_MAX_STRING_VALUE_SIZE` bytes.
    Str(&'a str),
    /// `TRACE_FIELD_I64`: every signed integer.
    I64(i64),
    /// `TRACE_FIELD_U64`: every unsigned integer.
    U64(u64),
    /// `TRACE_FIELD_F64`: `f32` and `f64`.
    F64(f64),
    /// `TRACE_FIELD_BOOL`.
    Bool(bool),
    /// A string formatted with `Display` straight into the record.
    Display(&'a dyn fmt::Display),
    /// A string formatted with `Debug` straight into the record.
    Debug(&'a dyn fmt::Debug),
}

/// A type that can be a span or event field (`key = value` in the macros).
pub trait TraceValue {
    /// The value to record.
    fn field_value(&self) -> FieldValue<'_>;
}

macro_rules! trace_value {
    ($variant:ident as $wide:ty: $($t:ty),+) => {$(
        impl TraceValue for $t {
            #[inline]
            fn field_value(&self) -> FieldValue<'_> {
                FieldValue::$variant(*self as $wide)
            }
        }
    )+};
}

trace_value!(I64 as i64: i8, i16, i32, i64, isize);
trace_value!(U64 as u64: u8, u16, u32, u64, usize);
trace_value!(F64 as f64: f32, f64);

impl TraceValue for bool {
    #[inline]
    fn field_value(&self) -> FieldValue<'_> {
        FieldValue::Bool(*self)
    }
}

impl TraceValue for str {
    #[inline]
    fn field_value(&self) -> FieldValue<'_> {
        FieldValue::Str(self)
    }
}

impl TraceValue for String {
    #[inline]
    fn field_value(&self) -> FieldValue<'_> {
        FieldValue::Str(self)
    }
}

impl<T: TraceValue + ?Sized> TraceValue for &T {
    fn field_value(&self) -> FieldValue<'_> {
        (**self).field_value()
    }
}

/// A value recorded as its `Display` text; see [`display`].
pub struct DisplayValue<T>(T);

/// A value recorded as its `Debug` text; see [`debug`].
pub struct DebugValue<T>(T);

/// Records `value` as a string field through its `Display` impl, formatted
/// straight into the record (no allocation): `span!(..., addr = display(ip))`.
pub fn display<T: fmt::Display>(value: T) -> DisplayValue<T> {
    DisplayValue(value)
}

/// Records `value` as a string field through its `Debug` impl, formatted
/// straight into the record (no allocation): `event!(..., state = debug(&s))`.
pub fn debug<T: fmt::Debug>(value: T) -> DebugValue<T> {
    DebugValue(value)
}

impl<T: fmt::Display> TraceValue for DisplayValue<T> {
    fn field_value(&self) -> FieldValue<'_> {
        FieldValue::Display(&self.0)
    }
}

impl<T: fmt::Debug> TraceValue for DebugValue<T> {
    fn field_value(&self) -> FieldValue<'_> {
        FieldValue::Debug(&self.0)
    }
}
