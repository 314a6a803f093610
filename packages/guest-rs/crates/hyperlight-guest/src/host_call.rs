//! Calling host functions: `FunctionCall` into the output buffer, exit
//! `CALL_HOST`, `FunctionCallResult` back from the input buffer.

use alloc::format;
use alloc::string::String;

use crate::abi::{MAX_GUEST_FUNCTION_PARAMETERS, PORT_CALL_HOST};
use crate::entry;
use crate::error::{ErrorCode, HostError};
use crate::exit::out32;
use crate::value::{Value, ValueType, WireValue};
use crate::wire::{self, TooLarge};

/// Calls host function `function_name` with `args` and converts its result
/// to `T` (use `()` for a function that returns nothing).
///
/// `#[host_function]` generates typed wrappers around this; call it directly
/// when the function is only known at run time.
///
/// ```ignore
/// let sum: i32 = call_host("HostAdd", &[Value::I32(1), Value::I32(2)])?;
/// ```
///
/// # Errors
/// The host's `CallError` (usually `HostFunctionFailed` or
/// `HostFunctionNotFound`), or `MessageTooLarge` when the call does not fit
/// the output buffer, `MalformedMessage` when the reply cannot be decoded,
/// `WrongReturnType` when it is not a `T`.
pub fn call_host<T: WireValue>(function_name: &str, args: &[Value]) -> Result<T, HostError> {
    let value = call_host_value(function_name, args, T::VALUE_TYPE)?;
    // call_host_value already checked the type; this only unwraps.
    T::from_value(value)
        .map_err(|v| error(function_name, ErrorCode::WrongReturnType, format!("unexpected {}", v.value_type())))
}

/// Calls host function `function_name` with `args`, asking for a
/// `return_type` value, and returns the value untyped.
///
/// # Errors
/// As [`call_host`].
pub fn call_host_value(function_name: &str, args: &[Value], return_type: ValueType) -> Result<Value, HostError> {
    let Some(env) = entry::env() else {
        return Err(error(function_name, ErrorCode::HostFunctionFailed, "the guest runtime is not running".into()));
    };
    #[cfg(feature = "trace")]
    let _span = crate::tracing::run::runtime_span("host_call", Some(function_name));
    if args.len() > MAX_GUEST_FUNCTION_PARAMETERS {
        return Err(error(
            function_name,
            ErrorCode::WrongArgumentCount,
            format!("host calls take at most {MAX_GUEST_FUNCTION_PARAMETERS} arguments, not {}", args.len()),
        ));
    }
    #[cfg(feature = "libc")]
    crate::libc::flush_output();
    let written =
        env.output.with_bytes_mut(|buf| wire::encode_function_call(buf, function_name, args, return_type as u8));
    if let Err(TooLarge { needed }) = written {
        return Err(error(
            function_name,
            ErrorCode::MessageTooLarge,
            format!("the call needs {needed} bytes but the output buffer holds {}", env.output.size()),
        ));
    }

    out32(PORT_CALL_HOST, 0);

    let reply = env.input.with_frame(wire::decode_function_call_result).map_err(|bad| {
        error(
            function_name,
            ErrorCode::MalformedMessage,
            format!("the reply claims {} bytes but the input buffer holds {}", bad.payload_size, bad.buffer_size),
        )
    })?;
    match reply {
        Ok(Ok(value)) if value.value_type() == return_type => Ok(value),
        Ok(Ok(value)) => Err(error(
            function_name,
            ErrorCode::WrongReturnType,
            format!("host function \"{function_name}\" returned {} but {return_type} was expected", value.value_type()),
        )),
        // A code this guest does not know is still a host-side failure.
        Ok(Err((code, message))) => {
            Err(error(function_name, ErrorCode::from_u32(code).unwrap_or(ErrorCode::HostFunctionFailed), message))
        }
        Err(e) => {
            Err(error(function_name, ErrorCode::MalformedMessage, format!("malformed FunctionCallResult: {}", e.0)))
        }
    }
}

fn error(function_name: &str, code: ErrorCode, message: String) -> HostError {
    HostError { function_name: function_name.into(), code, message }
}
