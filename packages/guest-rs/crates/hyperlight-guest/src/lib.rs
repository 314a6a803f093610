//! The runtime of a hyperlight-ts guest written in Rust.
//!
//! A guest is a `#![no_std]`, `#![no_main]` binary crate that depends on this
//! crate and is linked into a static-PIE ELF by `hyperlight-build-rust-guest`
//! (`@hyperlight-ts/guest-rs`). This crate supplies everything such a binary
//! needs and the host expects (`docs/abi.md`):
//!
//! - the ELF entry point `hyperlight_entry(peb, op)`, which validates the PEB,
//!   runs the guest's [`guest_init`] function and publishes the guest
//!   function table on `OP_INIT`, and runs one guest function on `OP_CALL`;
//! - the global allocator over the PEB's heap arena;
//! - the panic handler, which reports panics (and heap exhaustion) as aborts;
//! - printing (`print!`) and logging (`info!` & co.) to the host;
//! - with the `trace` feature, tracing: spans, events, `#[instrument]` and
//!   memory profiles in the trace area ([`tracing`]);
//! - `memcpy` & co., which the prebuilt `core`/`alloc` need from us.
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use hyperlight_guest::prelude::*;
//!
//! #[host_function("GetWeekday")]
//! fn get_weekday() -> Result<String, HostError>;
//!
//! #[guest_function("SayHello")]
//! fn say_hello(name: String) -> Result<String> {
//!     let weekday = get_weekday()?;
//!     Ok(format!("Hello, {name}! Today is {weekday}."))
//! }
//! ```
//!
//! A guest that needs set-up before its first call (tables built from
//! [`init_data`], a greeting to the host) marks one `fn()` with
//! [`guest_init`]; the runtime runs it once, while the host evolves the
//! sandbox:
//!
//! ```ignore
//! static CONFIG_SIZE: AtomicUsize = AtomicUsize::new(0);
//!
//! #[guest_init]
//! fn init() {
//!     CONFIG_SIZE.store(hyperlight_guest::init_data().len(), Ordering::Relaxed);
//!     info!("ready");
//! }
//! ```
//!
//! Under `cfg(test)` the crate builds against `std` and every port exit goes
//! to an in-process fake host (`test_host`), so the runtime logic is unit
//! tested with `cargo test` on the build machine.
#![cfg_attr(not(test), no_std)]
// No `#![no_builtins]`: `mem.rs` writes memcpy & co. as single asm blocks, so
// there is no loop LLVM could turn back into a call to itself, and the crate
// stays eligible for LTO (rustc keeps `no_builtins` crates out of LTO, which
// breaks `lto = true` guest builds with undefined `core` symbols).
#![warn(missing_docs, unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

extern crate alloc;
// Lets the attribute macros' `::hyperlight_guest::` paths resolve inside this
// crate's own tests.
extern crate self as hyperlight_guest;

#[allow(missing_docs, clippy::unreadable_literal)]
pub mod abi;
mod buffer;
mod cell;
pub mod clock;
mod dispatch;
mod entry;
mod error;
mod exit;
// `alloc.rs` holds the heap; the module cannot be called `alloc` next to `extern crate alloc`.
#[path = "alloc.rs"]
mod heap;
mod host_call;
mod init;
#[cfg(feature = "libc")]
mod libc;
pub mod log;
mod mem;
mod panic;
#[cfg(test)]
mod per_call_bench;
pub mod print;
pub mod tracing;
mod value;
mod wire;

#[cfg(test)]
mod test_host;
#[cfg(test)]
mod tests;

pub use dispatch::{Args, RegistrationError, register_function};
pub use error::{ErrorCode, GuestError, HostError, Result};
pub use exit::abort;
pub use host_call::{call_host, call_host_value};
pub use hyperlight_guest_macros::{guest_function, guest_init, host_function, instrument};
pub use log::LogLevel;
pub use value::{Param, Value, ValueType, WireValue};

/// The read-only blob the host handed to the sandbox at creation
/// (`init_data_gva`/`init_data_size` in the PEB); empty when there is none.
///
/// Returns an empty slice before the runtime has seen a valid PEB (it always
/// has by the time guest code runs).
pub fn init_data() -> &'static [u8] {
    entry::env().map_or(&[], |env| env.init_data)
}

/// Everything a guest usually needs: `use hyperlight_guest::prelude::*;`.
///
/// Besides this crate's own items it re-exports the `alloc` types and macros a
/// `no_std` guest would otherwise import by hand.
pub mod prelude {
    pub use crate::{
        ErrorCode, GuestError, HostError, LogLevel, Result, Value, ValueType, abort, call_host, debug, error, event,
        guest_function, guest_init, host_function, info, instrument, log, print, println, span, span_record, trace,
        warn,
    };
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

/// Items the attribute macros expand to. Not part of the public API: names and
/// shapes may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::dispatch::{Args, GuestFunctionRegistration, REGISTRATION_SECTION};
    pub use crate::init::{GuestInitRegistration, INIT_SECTION};
    pub use crate::value::{GuestReturn, HostArg, HostReturn, param_type};

    pub use crate::exit::{abort_fmt, out32};

    /// The PEB of the current run; null before the runtime has seen a valid
    /// one (the C API's `hl_get_peb`).
    pub fn current_peb() -> *const crate::abi::Peb {
        crate::entry::env().map_or(core::ptr::null(), |env| env.peb)
    }
}
