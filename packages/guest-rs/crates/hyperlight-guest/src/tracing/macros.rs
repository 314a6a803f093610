//! `span!`, `event!` and `span_record!`.
//!
//! Each expansion starts with `COMPILED && <threshold check>`: without the
//! `trace` feature `COMPILED` is a `false` constant, so the compiler drops
//! the whole expansion, even in debug builds (arguments are type-checked,
//! never evaluated, and reach only `#[inline]` stubs);
//! with it, a level the run does not record costs one byte compare. Only
//! then is the target filtered and are field values computed.

/// Opens a span and returns its [`SpanGuard`](crate::tracing::SpanGuard);
/// the span closes when the guard is dropped.
///
/// ```ignore
/// let _span = span!(LogLevel::Info, "parse", bytes = input.len(), strict = true);
/// let _span = span!(target: "codec", LogLevel::Debug, "decode");
/// ```
///
/// The name is a `&str`; fields are `key = value` with any
/// [`TraceValue`](crate::tracing::TraceValue). The target defaults to the
/// module path.
#[macro_export]
macro_rules! span {
    (target: $target:expr, $level:expr, $name:expr $(, $key:ident = $value:expr)* $(,)?) => {{
        let level: $crate::LogLevel = $level;
        if $crate::tracing::__private::COMPILED && $crate::tracing::__private::passes_threshold(level) {
            let target: &str = $target;
            if $crate::tracing::__private::target_enabled(level, target) {
                $crate::tracing::__private::open_span(
                    level,
                    target,
                    $name,
                    &[$((::core::stringify!($key), $crate::tracing::TraceValue::field_value(&$value))),*],
                )
            } else {
                $crate::tracing::SpanGuard::inert()
            }
        } else {
            $crate::tracing::SpanGuard::inert()
        }
    }};
    ($level:expr, $name:expr $(, $key:ident = $value:expr)* $(,)?) => {
        $crate::span!(target: ::core::module_path!(), $level, $name $(, $key = $value)*)
    };
}

/// Records an event: a formatted message at a level, with optional typed
/// fields after a `;`, inside the innermost open span.
///
/// ```ignore
/// event!(LogLevel::Warn, "retrying {} of {}", attempt, max);
/// event!(LogLevel::Info, "cache miss"; key = name.as_str(), size = 512u32);
/// event!(target: "net", LogLevel::Error, "connect failed: {err}"; port = 443);
/// ```
#[macro_export]
macro_rules! event {
    (target: $target:expr, $level:expr, $message:literal $(, $arg:expr)* $(; $($key:ident = $value:expr),* $(,)?)?) => {{
        let level: $crate::LogLevel = $level;
        if $crate::tracing::__private::COMPILED && $crate::tracing::__private::passes_threshold(level) {
            let target: &str = $target;
            if $crate::tracing::__private::target_enabled(level, target) {
                $crate::tracing::__private::event(
                    level,
                    target,
                    ::core::format_args!($message $(, $arg)*),
                    &[$($((::core::stringify!($key), $crate::tracing::TraceValue::field_value(&$value))),*)?],
                );
            }
        }
    }};
    ($level:expr, $message:literal $(, $arg:expr)* $(; $($key:ident = $value:expr),* $(,)?)?) => {
        $crate::event!(target: ::core::module_path!(), $level, $message $(, $arg)* $(; $($key = $value),*)?)
    };
}

/// Records more fields of an open span (a `SPAN_FIELDS` record), e.g. a
/// result known only at the end.
///
/// ```ignore
/// let span = span!(LogLevel::Info, "lookup", key = k);
/// span_record!(span, hit = found, entries = n);
/// ```
///
/// Does nothing when the span was not recorded.
#[macro_export]
macro_rules! span_record {
    ($guard:expr, $($key:ident = $value:expr),+ $(,)?) => {{
        let guard: &$crate::tracing::SpanGuard = &$guard;
        if $crate::tracing::__private::COMPILED && guard.is_recording() {
            $crate::tracing::__private::record_fields(
                guard,
                &[$((::core::stringify!($key), $crate::tracing::TraceValue::field_value(&$value))),+],
            );
        }
    }};
}
