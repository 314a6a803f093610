//! Errors of guest functions and host calls.

use alloc::string::String;
use core::fmt;

/// Why a call failed (`ErrorCode` in `schema/function_call_result.fbs`).
/// The numbers are stable wire values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    /// No function of that name exists.
    FunctionNotFound = 1,
    /// The call passed a different number of arguments than declared.
    WrongArgumentCount = 2,
    /// An argument's type differs from the declared parameter type.
    WrongArgumentType = 3,
    /// The caller expected a different return type than declared.
    WrongReturnType = 4,
    /// A message could not be decoded.
    MalformedMessage = 5,
    /// A host function failed (threw, or rejected its arguments).
    HostFunctionFailed = 6,
    /// A guest function returned an error.
    GuestFunctionFailed = 7,
    /// Memory ran out while handling the call.
    OutOfMemory = 8,
    /// The host has no function of that name.
    HostFunctionNotFound = 9,
    /// A result or host call does not fit the buffer it must travel in.
    MessageTooLarge = 10,
}

impl ErrorCode {
    /// The code with wire number `code`, if there is one.
    pub const fn from_u32(code: u32) -> Option<Self> {
        Some(match code {
            1 => Self::FunctionNotFound,
            2 => Self::WrongArgumentCount,
            3 => Self::WrongArgumentType,
            4 => Self::WrongReturnType,
            5 => Self::MalformedMessage,
            6 => Self::HostFunctionFailed,
            7 => Self::GuestFunctionFailed,
            8 => Self::OutOfMemory,
            9 => Self::HostFunctionNotFound,
            10 => Self::MessageTooLarge,
            _ => return None,
        })
    }
}

/// The error a guest function fails with. It reaches the host as a
/// `CallError { code, message }`.
///
/// ```ignore
/// #[guest_function("Divide")]
/// fn divide(a: i32, b: i32) -> Result<i32> {
///     a.checked_div(b).ok_or_else(|| GuestError::new("division by zero"))
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestError {
    /// The wire code; [`ErrorCode::GuestFunctionFailed`] unless chosen.
    pub code: ErrorCode,
    /// What went wrong, for the host's error message.
    pub message: String,
}

impl GuestError {
    /// An error with code [`ErrorCode::GuestFunctionFailed`].
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(ErrorCode::GuestFunctionFailed, message)
    }

    /// An error with an explicit code.
    pub fn with_code(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl fmt::Display for GuestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for GuestError {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for GuestError {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// A failed host function keeps its code and message when propagated with
/// `?`, so the host sees the original failure (e.g. `HostFunctionNotFound`).
impl From<HostError> for GuestError {
    fn from(e: HostError) -> Self {
        Self { code: e.code, message: e.message }
    }
}

/// `Result` with [`GuestError`] as the default error: the return type of
/// fallible guest functions.
pub type Result<T, E = GuestError> = core::result::Result<T, E>;

/// Why a host call failed: the host's `CallError`, or a failure on the guest
/// side of the call (the call did not fit the output buffer, the reply was
/// malformed or of the wrong type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError {
    /// The host function that was called.
    pub function_name: String,
    /// The wire code, usually [`ErrorCode::HostFunctionFailed`] or
    /// [`ErrorCode::HostFunctionNotFound`].
    pub code: ErrorCode,
    /// The host's message (or the guest side's, see above).
    pub message: String,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host function \"{}\" failed ({:?}): {}", self.function_name, self.code, self.message)
    }
}
