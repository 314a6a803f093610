//! Logging: `LogRecord`s batched in the log area (docs/abi.md, "Log area").
//!
//! A record costs no exit of its own: it is appended to the log area, which
//! the host drains on every exit. Only when the area is full does the guest
//! exit `LOG_FLUSH` to make room. Records below the host's `max_log_level`
//! are dropped before anything is formatted.
//!
//! ```text
//! offset 0: u32 used bytes U      offset 4: records, each a size-prefixed
//!                                 LogRecord padded to a 4-byte boundary
//! ```

use core::fmt;

use crate::abi::{FRAME_HEADER_SIZE, PORT_LOG_FLUSH};
use crate::buffer::SharedBuffer;
use crate::entry;
use crate::exit::out32;
use crate::wire::{self, LogRecord, TooLarge};

/// Severity of a log record (`LogLevel` in `schema/log_record.fbs`), least
/// to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum LogLevel {
    /// Very detailed tracing.
    Trace = 0,
    /// Debugging detail.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the guest handled.
    Warn = 3,
    /// Something failed.
    Error = 4,
    /// Something failed badly.
    Critical = 5,
}

impl LogLevel {
    /// The level with wire number `level`, if there is one (6, `Off`, is not
    /// a level a record can have).
    pub const fn from_u8(level: u8) -> Option<Self> {
        Some(match level {
            0 => Self::Trace,
            1 => Self::Debug,
            2 => Self::Info,
            3 => Self::Warn,
            4 => Self::Error,
            5 => Self::Critical,
            _ => return None,
        })
    }
}

/// Whether the host wants records of `level` (it sets the most verbose level
/// it wants in the PEB's `max_log_level`; `Off` drops everything).
pub fn log_enabled(level: LogLevel) -> bool {
    entry::env().is_some_and(|env| env.log.is_some() && u64::from(level as u8) >= env.max_log_level)
}

/// Rounds up to the 4-byte boundary every record starts on.
const fn padded(len: usize) -> usize {
    (len + 3) & !3
}

/// Appends one record; what the logging macros expand to.
#[doc(hidden)]
pub fn log_fmt(level: LogLevel, target: &str, source_file: &str, line: u32, message: fmt::Arguments<'_>) {
    if !log_enabled(level) {
        return;
    }
    let Some(area) = entry::env().and_then(|env| env.log) else { return };
    let record = LogRecord { level: level as u8, target, source_file, line, message };
    let mut max_message_len = usize::MAX;
    let mut flushed = false;
    // Bounded: at most one flush and a few shortenings.
    for _ in 0..4 {
        match append(area, &record, max_message_len) {
            Appended::Done => return,
            Appended::Full if flushed => return, // the host did not empty the area
            Appended::Full => {
                // The host drains the area on every exit, this one included.
                out32(PORT_LOG_FLUSH, 0);
                flushed = true;
            }
            // Too big even for an empty area: keep what fits of the message,
            // which is written last (4 bytes of slack for alignment).
            Appended::TooBig { excess, message_len } => {
                let kept = message_len.min(max_message_len);
                if kept == 0 {
                    return;
                }
                max_message_len = kept.saturating_sub(excess + 4);
            }
        }
    }
}

/// What [`append`] managed.
enum Appended {
    Done,
    /// Does not fit after the records already in the area.
    Full,
    /// Does not fit an empty area: `excess` bytes too many; the whole
    /// message is `message_len` bytes.
    TooBig {
        excess: usize,
        message_len: usize,
    },
}

/// Tries to write `record` after the records in `area`.
fn append(area: SharedBuffer, record: &LogRecord<'_>, max_message_len: usize) -> Appended {
    area.with_bytes_mut(|bytes| {
        // The host resets U to 0 on every exit; read it fresh each time.
        let used = padded(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize);
        let start = FRAME_HEADER_SIZE.saturating_add(used).min(bytes.len());
        let free = bytes.len() - start;
        let (written, message_len) = wire::encode_log_record(&mut bytes[start..], record, max_message_len);
        let len = match written {
            Ok(len) => len,
            Err(TooLarge { needed }) => needed,
        };
        if written.is_ok() && padded(len) <= free {
            bytes[..4].copy_from_slice(&((used + padded(len)) as u32).to_le_bytes());
            Appended::Done
        } else if used > 0 {
            Appended::Full
        } else {
            Appended::TooBig { excess: padded(len) - free, message_len }
        }
    })
}

/// Logs a formatted message at a level, like the `log` crate's `log!`.
/// The target defaults to the module path.
///
/// ```ignore
/// log!(LogLevel::Warn, "retrying {name}");
/// log!(target: "net", LogLevel::Info, "connected");
/// ```
#[macro_export]
macro_rules! log {
    (target: $target:expr, $level:expr, $($arg:tt)+) => {{
        let level: $crate::log::LogLevel = $level;
        if $crate::log::log_enabled(level) {
            $crate::log::log_fmt(level, $target, ::core::file!(), ::core::line!(), ::core::format_args!($($arg)+));
        }
    }};
    ($level:expr, $($arg:tt)+) => {
        $crate::log!(target: ::core::module_path!(), $level, $($arg)+)
    };
}

/// Logs at [`LogLevel::Error`](crate::log::LogLevel::Error).
#[macro_export]
macro_rules! error {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::log::LogLevel::Error, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::log::LogLevel::Error, $($arg)+) };
}

/// Logs at [`LogLevel::Warn`](crate::log::LogLevel::Warn).
#[macro_export]
macro_rules! warn {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::log::LogLevel::Warn, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::log::LogLevel::Warn, $($arg)+) };
}

/// Logs at [`LogLevel::Info`](crate::log::LogLevel::Info).
#[macro_export]
macro_rules! info {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::log::LogLevel::Info, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::log::LogLevel::Info, $($arg)+) };
}

/// Logs at [`LogLevel::Debug`](crate::log::LogLevel::Debug).
#[macro_export]
macro_rules! debug {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::log::LogLevel::Debug, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::log::LogLevel::Debug, $($arg)+) };
}

/// Logs at [`LogLevel::Trace`](crate::log::LogLevel::Trace).
#[macro_export]
macro_rules! trace {
    (target: $target:expr, $($arg:tt)+) => { $crate::log!(target: $target, $crate::log::LogLevel::Trace, $($arg)+) };
    ($($arg:tt)+) => { $crate::log!($crate::log::LogLevel::Trace, $($arg)+) };
}
