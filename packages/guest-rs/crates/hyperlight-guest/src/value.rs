//! The values that cross the host/guest boundary (`schema/values.fbs`) and the
//! traits that map Rust types onto them.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::{ErrorCode, GuestError, HostError};

/// The declared type of a parameter or return value (`ValueType` in
/// `schema/values.fbs`). Each number equals the tag of the matching `Value`
/// union member on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ValueType {
    /// `i32`
    I32 = 1,
    /// `u32`
    U32 = 2,
    /// `i64`
    I64 = 3,
    /// `u64`
    U64 = 4,
    /// `f32`
    F32 = 5,
    /// `f64`
    F64 = 6,
    /// UTF-8 text, `String`
    String = 7,
    /// `bool`
    Bool = 8,
    /// A byte array, `Vec<u8>`
    Bytes = 9,
    /// No value, `()`; valid only as a return type
    Void = 10,
}

impl ValueType {
    /// The type with wire number `tag`, if there is one (0, `None` on the
    /// wire, is not a type).
    pub const fn from_u8(tag: u8) -> Option<Self> {
        Some(match tag {
            1 => Self::I32,
            2 => Self::U32,
            3 => Self::I64,
            4 => Self::U64,
            5 => Self::F32,
            6 => Self::F64,
            7 => Self::String,
            8 => Self::Bool,
            9 => Self::Bytes,
            10 => Self::Void,
            _ => return None,
        })
    }

    /// The name used in error messages, the same the host's TypeScript API
    /// uses for the type (`"i32"`, `"string"`, `"bytes"`, `"void"`, ...).
    pub const fn name(self) -> &'static str {
        match self {
            Self::I32 => "i32",
            Self::U32 => "u32",
            Self::I64 => "i64",
            Self::U64 => "u64",
            Self::F32 => "f32",
            Self::F64 => "f64",
            Self::String => "string",
            Self::Bool => "bool",
            Self::Bytes => "bytes",
            Self::Void => "void",
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value that crosses the boundary: an argument or a return value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `i32`
    I32(i32),
    /// `u32`
    U32(u32),
    /// `i64`
    I64(i64),
    /// `u64`
    U64(u64),
    /// `f32` (every bit pattern survives, including `-0.0` and NaN payloads)
    F32(f32),
    /// `f64` (every bit pattern survives, including `-0.0` and NaN payloads)
    F64(f64),
    /// UTF-8 text
    String(String),
    /// `bool`
    Bool(bool),
    /// A byte array
    Bytes(Vec<u8>),
    /// No value (a `()` return)
    Void,
}

impl Value {
    /// The type of this value.
    pub const fn value_type(&self) -> ValueType {
        match self {
            Self::I32(_) => ValueType::I32,
            Self::U32(_) => ValueType::U32,
            Self::I64(_) => ValueType::I64,
            Self::U64(_) => ValueType::U64,
            Self::F32(_) => ValueType::F32,
            Self::F64(_) => ValueType::F64,
            Self::String(_) => ValueType::String,
            Self::Bool(_) => ValueType::Bool,
            Self::Bytes(_) => ValueType::Bytes,
            Self::Void => ValueType::Void,
        }
    }
}

/// A Rust type carried as exactly one [`Value`]: `i32`, `u32`, `i64`, `u64`,
/// `f32`, `f64`, `String`, `bool`, `Vec<u8>` and `()` (as `Void`).
pub trait WireValue: Sized {
    /// The type this Rust type is declared as on the wire.
    const VALUE_TYPE: ValueType;

    /// Wraps `self` in a [`Value`].
    fn into_value(self) -> Value;

    /// Unwraps a [`Value`] of type [`Self::VALUE_TYPE`]; any other value is
    /// handed back unchanged.
    fn from_value(value: Value) -> Result<Self, Value>;
}

/// A type a guest function may take as a parameter: every [`WireValue`] but
/// `()`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a guest function parameter",
    label = "unsupported parameter type",
    note = "parameters must be one of: i32, u32, i64, u64, f32, f64, bool, String, Vec<u8>"
)]
pub trait Param: WireValue {}

/// The declared type of parameter type `T` (checks `T: Param` where the
/// macro-generated registration names the user's type).
pub const fn param_type<T: Param>() -> ValueType {
    T::VALUE_TYPE
}

macro_rules! wire_value {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl WireValue for $ty {
            const VALUE_TYPE: ValueType = ValueType::$variant;

            fn into_value(self) -> Value {
                Value::$variant(self)
            }

            fn from_value(value: Value) -> Result<Self, Value> {
                match value {
                    Value::$variant(v) => Ok(v),
                    other => Err(other),
                }
            }
        }

        impl Param for $ty {}

        impl From<$ty> for Value {
            fn from(v: $ty) -> Self {
                Value::$variant(v)
            }
        }
    )*};
}

wire_value! {
    i32 => I32,
    u32 => U32,
    i64 => I64,
    u64 => U64,
    f32 => F32,
    f64 => F64,
    String => String,
    bool => Bool,
    Vec<u8> => Bytes,
}

impl WireValue for () {
    const VALUE_TYPE: ValueType = ValueType::Void;

    fn into_value(self) -> Value {
        Value::Void
    }

    fn from_value(value: Value) -> Result<Self, Value> {
        match value {
            Value::Void => Ok(()),
            other => Err(other),
        }
    }
}

impl From<()> for Value {
    fn from((): ()) -> Self {
        Value::Void
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.into())
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Bytes(v.into())
    }
}

/// What a `#[guest_function]` may return: a [`WireValue`] or
/// `Result<WireValue, GuestError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a guest function return type",
    label = "unsupported return type",
    note = "return (), i32, u32, i64, u64, f32, f64, bool, String or Vec<u8>, or a Result<_, GuestError> of one"
)]
pub trait GuestReturn {
    /// The declared return type.
    const VALUE_TYPE: ValueType;

    /// The value to send back, or the error the call fails with.
    fn into_guest_result(self) -> Result<Value, GuestError>;
}

impl<T: WireValue> GuestReturn for T {
    const VALUE_TYPE: ValueType = T::VALUE_TYPE;

    fn into_guest_result(self) -> Result<Value, GuestError> {
        Ok(self.into_value())
    }
}

impl<T: WireValue> GuestReturn for Result<T, GuestError> {
    const VALUE_TYPE: ValueType = T::VALUE_TYPE;

    fn into_guest_result(self) -> Result<Value, GuestError> {
        self.map(WireValue::into_value)
    }
}

/// What a `#[host_function]` parameter may be: any [`Param`] type, plus the
/// borrowed `&str` and `&[u8]` (host calls only read their arguments).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a host function parameter",
    label = "unsupported parameter type",
    note = "parameters must be one of: i32, u32, i64, u64, f32, f64, bool, String, &str, Vec<u8>, &[u8]"
)]
pub trait HostArg {
    /// Wraps the argument in a [`Value`].
    fn into_host_value(self) -> Value;
}

impl<T: Param> HostArg for T {
    fn into_host_value(self) -> Value {
        self.into_value()
    }
}

impl HostArg for &str {
    fn into_host_value(self) -> Value {
        Value::from(self)
    }
}

impl HostArg for &[u8] {
    fn into_host_value(self) -> Value {
        Value::from(self)
    }
}

/// What a `#[host_function]` may return: a [`WireValue`] (a failed host call
/// then panics) or `Result<WireValue, HostError>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a host function return type",
    label = "unsupported return type",
    note = "return (), i32, u32, i64, u64, f32, f64, bool, String or Vec<u8>, or a Result<_, HostError> of one"
)]
pub trait HostReturn: Sized {
    /// The return type the guest asks the host for.
    const VALUE_TYPE: ValueType;

    /// Converts the outcome of `call_host_value` for the declared type. A
    /// panic here is reported at the `#[host_function]` declaration.
    #[track_caller]
    fn from_host_result(function_name: &str, result: Result<Value, HostError>) -> Self;
}

impl<T: WireValue> HostReturn for T {
    const VALUE_TYPE: ValueType = T::VALUE_TYPE;

    fn from_host_result(function_name: &str, result: Result<Value, HostError>) -> Self {
        match <Result<T, HostError>>::from_host_result(function_name, result) {
            Ok(v) => v,
            // The declaration chose not to handle failures; a panic aborts the
            // guest and the host reports the host function's message.
            Err(e) => panic!("{e}"),
        }
    }
}

impl<T: WireValue> HostReturn for Result<T, HostError> {
    const VALUE_TYPE: ValueType = T::VALUE_TYPE;

    fn from_host_result(function_name: &str, result: Result<Value, HostError>) -> Self {
        let value = result?;
        T::from_value(value).map_err(|v| HostError {
            function_name: function_name.into(),
            code: ErrorCode::WrongReturnType,
            message: alloc::format!(
                "host function \"{function_name}\" returned {} but {} was expected",
                v.value_type(),
                T::VALUE_TYPE
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_match_the_schema() {
        for tag in 1..=10u8 {
            assert_eq!(ValueType::from_u8(tag).unwrap() as u8, tag);
        }
        assert_eq!(ValueType::from_u8(0), None);
        assert_eq!(ValueType::from_u8(11), None);
        assert_eq!(ValueType::Bytes.to_string(), "bytes");
    }

    #[test]
    fn wire_values_convert_both_ways() {
        assert_eq!(String::from_value("x".into()), Ok(String::from("x")));
        assert_eq!(i32::from_value(Value::U32(1)), Err(Value::U32(1)));
        assert_eq!(<()>::from_value(Value::Void), Ok(()));
        assert_eq!(vec![1u8].into_value(), Value::Bytes(vec![1]));
        assert_eq!(<Result<u64, GuestError> as GuestReturn>::VALUE_TYPE, ValueType::U64);
    }

    #[test]
    fn host_return_checks_the_type() {
        let r = <Result<String, HostError>>::from_host_result("F", Ok(Value::I32(1)));
        let e = r.unwrap_err();
        assert_eq!(e.code, ErrorCode::WrongReturnType);
        assert_eq!(e.message, "host function \"F\" returned i32 but string was expected");
    }
}
