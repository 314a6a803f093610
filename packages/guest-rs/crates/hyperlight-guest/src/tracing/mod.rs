//! Guest tracing: spans, events and memory profiles recorded in the trace
//! area for the host's collector (`docs/tracing-format.md`).
//!
//! ```ignore
//! use hyperlight_guest::prelude::*;
//!
//! #[guest_function("Resize")]
//! #[instrument(level = "debug", fields(width))]   // a span around the whole call
//! fn resize(width: i32) -> i32 {
//!     let span = span!(LogLevel::Info, "scale", factor = 2.5);
//!     event!(LogLevel::Warn, "clamped {}", width; original = width, clamped = true);
//!     span_record!(span, result = width * 2);
//!     width * 2
//! }
//! ```
//!
//! Everything here costs nothing unless the guest enables the crate's
//! `trace` feature: the macros and `#[instrument]` then compile to nothing
//! (their arguments are type-checked, never evaluated). With the feature the
//! host decides at every run: the runtime reads the trace area's header when
//! it is entered and keeps one threshold byte, so a span or event the host
//! does not want costs one compare and one predictable branch. The other
//! settings (target filter, runtime spans, memory profile, traceparent) are
//! copied at the same time; changes to the header during a run do nothing.
//!
//! Levels are [`LogLevel`](crate::LogLevel)s, as for logging. Targets
//! default to the module path. Field values are typed: integers, floats,
//! `bool`, `&str`/`String`, or anything wrapped in [`display`] / [`debug`].
//! Names, targets and values that are too long are cut at a UTF-8 character
//! boundary; fields that no longer fit the largest record are left out.
//!
//! Without the feature only the API's types and `#[inline]` stubs are
//! compiled, so a guest that does not enable it builds exactly as if this
//! module did not exist.

mod guard;
mod macros;
mod traceparent;
mod value;

#[cfg(feature = "trace")]
mod area;
#[cfg(feature = "trace")]
pub(crate) mod memory;
#[cfg(feature = "trace")]
mod record;
#[cfg(feature = "trace")]
pub(crate) mod run;
#[cfg(feature = "trace")]
pub(crate) mod span;

#[cfg(all(test, feature = "trace"))]
mod bench;
#[cfg(all(test, feature = "trace"))]
mod tests;

pub use guard::SpanGuard;
pub use traceparent::Traceparent;
pub use value::{DebugValue, DisplayValue, FieldValue, TraceValue, debug, display};

use crate::log::LogLevel;

/// Whether a span or event of `level` with `target` would be recorded in
/// this run. Use it to skip computing expensive fields; the macros check it
/// themselves. Always `false` without the `trace` feature.
#[inline]
pub fn enabled(level: LogLevel, target: &str) -> bool {
    __private::passes_threshold(level) && __private::target_enabled(level, target)
}

/// The W3C `traceparent` of the host span around the current run, when the
/// host sent one, e.g. to pass on to a host function so the host can link
/// its own spans: `traceparent().as_deref().unwrap_or("")`. A copy, so it
/// stays as it was when the run started. Always `None` without the `trace`
/// feature.
#[inline]
pub fn traceparent() -> Option<Traceparent> {
    #[cfg(feature = "trace")]
    return run::traceparent();
    #[cfg(not(feature = "trace"))]
    None
}

/// Items the tracing macros expand to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "trace")]
    pub use super::span::{close_span_id, event, open_span, open_span_id, record_fields, record_fields_id};
    use crate::log::LogLevel;

    /// Whether the `trace` feature is on: the macros test it first, so
    /// without the feature their whole expansion is dead code.
    pub const COMPILED: bool = cfg!(feature = "trace");

    /// The one-branch check: `level` is at least the smallest level this
    /// run records anything at.
    #[inline(always)]
    pub fn passes_threshold(level: LogLevel) -> bool {
        #[cfg(feature = "trace")]
        return level as u8 >= super::run::threshold();
        #[cfg(not(feature = "trace"))]
        {
            let _ = level;
            false
        }
    }

    /// Whether a span or event of `level` with `target` is recorded, once
    /// [`passes_threshold`] said it may be.
    #[inline]
    pub fn target_enabled(level: LogLevel, target: &str) -> bool {
        #[cfg(feature = "trace")]
        return super::run::target_enabled(level, target);
        #[cfg(not(feature = "trace"))]
        {
            let _ = (level, target);
            false
        }
    }

    /// The trace area of the current run as (address, size in bytes), for
    /// test guests that play a hostile guest and write it themselves.
    #[inline]
    pub fn trace_area() -> Option<(usize, usize)> {
        #[cfg(feature = "trace")]
        return super::run::area();
        #[cfg(not(feature = "trace"))]
        None
    }

    /// Without the feature: what `span!` would call, never reached.
    #[cfg(not(feature = "trace"))]
    #[inline]
    pub fn open_span(_: LogLevel, _: &str, _: &str, _: &[(&str, super::FieldValue<'_>)]) -> super::SpanGuard {
        super::SpanGuard::inert()
    }

    /// Without the feature: what `event!` would call, never reached.
    #[cfg(not(feature = "trace"))]
    #[inline]
    pub fn event(_: LogLevel, _: &str, _: core::fmt::Arguments<'_>, _: &[(&str, super::FieldValue<'_>)]) {}

    /// Without the feature: what `span_record!` would call, never reached.
    #[cfg(not(feature = "trace"))]
    #[inline]
    pub fn record_fields(_: &super::SpanGuard, _: &[(&str, super::FieldValue<'_>)]) {}
}
