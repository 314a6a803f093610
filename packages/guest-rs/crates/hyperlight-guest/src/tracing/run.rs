//! The settings of the current run, read from the trace area's header when
//! the runtime is entered (`docs/tracing-format.md`, "The trace area").
//!
//! ```text
//! entry --reset()--> off --PEB valid--> begin_run(): header copied, RUN_START --> ... --> halt/abort
//! ```
//!
//! The header is the host's, but it lies in memory the guest can write, so
//! it is checked like any other guest-writable input: a level above `Off`, a
//! filter that overruns its space or a traceparent length above its capacity
//! turn tracing off for the run (nothing is recorded; the guest is not
//! aborted), unknown flag bits are ignored, and a traceparent that is not
//! printable ASCII is left out (`Traceparent::new`).

use crate::abi::{
    OP_CALL, OP_INIT, TRACE_FILTER_CAPACITY, TRACE_FLAG_ENABLED, TRACE_FLAG_MEMORY, TRACE_FLAG_RUNTIME_SPANS,
    TRACE_KIND_RUN_START, TRACE_OFFSET_FILTER, TRACE_OFFSET_FILTER_COUNT, TRACE_OFFSET_FLAGS, TRACE_OFFSET_LEVEL,
    TRACE_OFFSET_TRACEPARENT, TRACE_OFFSET_TRACEPARENT_LENGTH, TRACE_TRACEPARENT_CAPACITY,
};
use crate::cell::GlobalCell;
use crate::log::LogLevel;

use super::area;
use super::record::RecordBuf;
use super::traceparent::Traceparent;
use super::value::FieldValue;

/// `LogLevel` 6, `Off`: above every level a record can have.
pub(crate) const OFF: u8 = 6;

/// The smallest level recorded this run (`OFF` when nothing is): the one
/// byte the fast path reads. C guests' `HL_SPAN`/`HL_EVENT` macros read the
/// same byte as `hl_trace_min_level` (hyperlight/trace.h).
#[unsafe(export_name = "hl_trace_min_level")]
static THRESHOLD: GlobalCell<u8> = GlobalCell::new(OFF);
/// `TRACE_FLAG_*` of this run (0 when tracing is off or the header is bad).
static FLAGS: GlobalCell<u8> = GlobalCell::new(0);
/// Counts runs, so span guards from an earlier run do nothing in this one.
static RUN: GlobalCell<u32> = GlobalCell::new(0);
static SETTINGS: GlobalCell<Settings> = GlobalCell::new(Settings::OFF);

/// What the runtime keeps of the header and the PEB for one run.
#[derive(Clone, Copy)]
struct Settings {
    /// The trace area as (address, size in bytes), validated against the PEB.
    area: Option<(usize, usize)>,
    /// The guest stack as [low, high), for stack walks.
    stack: (usize, usize),
    /// The header's level (for targets no filter entry matches).
    level: u8,
    /// A copy of the filter entries, checked to lie within `filter_len`.
    filter: [u8; TRACE_FILTER_CAPACITY],
    filter_len: usize,
    filter_count: u8,
    traceparent: [u8; TRACE_TRACEPARENT_CAPACITY],
    traceparent_len: usize,
}

impl Settings {
    const OFF: Self = Self {
        area: None,
        stack: (0, 0),
        level: OFF,
        filter: [0; TRACE_FILTER_CAPACITY],
        filter_len: 0,
        filter_count: 0,
        traceparent: [0; TRACE_TRACEPARENT_CAPACITY],
        traceparent_len: 0,
    };

    /// The filter entries: (level, prefix).
    fn filter_entries(&self) -> impl Iterator<Item = (u8, &[u8])> {
        let mut rest = &self.filter[..self.filter_len];
        (0..self.filter_count).map_while(move |_| {
            let (&[level, len], tail) = rest.split_first_chunk::<2>()?;
            let (prefix, tail) = tail.split_at_checked(usize::from(len))?;
            rest = tail;
            Some((level, prefix))
        })
    }
}

/// The threshold byte of this run.
#[inline(always)]
pub(crate) fn threshold() -> u8 {
    THRESHOLD.get()
}

/// Whether the runtime records its own spans this run.
pub(crate) fn runtime_spans() -> bool {
    FLAGS.get() & TRACE_FLAG_RUNTIME_SPANS as u8 != 0
}

/// Whether the allocator records ALLOC and FREE this run.
#[inline(always)]
pub(crate) fn memory_profile() -> bool {
    FLAGS.get() & TRACE_FLAG_MEMORY as u8 != 0
}

/// The current run's number (span guards remember theirs).
pub(crate) fn run_number() -> u32 {
    RUN.get()
}

/// The validated trace area of this run.
pub(crate) fn area() -> Option<(usize, usize)> {
    SETTINGS.with(|s| s.area)
}

/// The guest stack as [low, high).
pub(crate) fn stack() -> (usize, usize) {
    SETTINGS.with(|s| s.stack)
}

/// The host's traceparent for this run.
pub(crate) fn traceparent() -> Option<Traceparent> {
    SETTINGS.with(|s| Traceparent::new(s.traceparent, s.traceparent_len))
}

/// Whether `level` at `target` passes the filter: the entry with the
/// longest prefix of `target` decides, else the header's level.
pub(crate) fn target_enabled(level: LogLevel, target: &str) -> bool {
    SETTINGS.with(|s| {
        let mut effective = s.level;
        let mut longest = None;
        for (entry_level, prefix) in s.filter_entries() {
            if target.as_bytes().starts_with(prefix) && longest.is_none_or(|l| prefix.len() > l) {
                longest = Some(prefix.len());
                effective = entry_level;
            }
        }
        level as u8 >= effective
    })
}

/// Turns tracing off before the PEB is checked, so nothing of an earlier
/// run leaks into this one (an abort on a bad PEB records nothing).
pub(crate) fn reset() {
    THRESHOLD.set(OFF);
    FLAGS.set(0);
    SETTINGS.set(Settings::OFF);
    super::span::reset();
}

/// Starts a run: copies the header's settings out of the trace area
/// (`area`, already checked against the PEB; `None` when unusable), resets
/// span ids and appends RUN_START when any flag is set.
pub(crate) fn begin_run(area: Option<(usize, usize)>, stack: (usize, usize), op: u64) {
    RUN.set(RUN.get().wrapping_add(1));
    let Some((base, size)) = area else { return };
    let header = |offset: usize| {
        // SAFETY: callers stay below TRACE_HEADER_SIZE, and the area holds at
        // least a whole header (checked at entry).
        unsafe { core::ptr::with_exposed_provenance::<u8>(base + offset).read_volatile() }
    };
    let mut settings = Settings { area: Some((base, size)), stack, ..Settings::OFF };
    // A length past the capacity cannot be the host's: tracing stays off.
    let traceparent_len = usize::from(header(TRACE_OFFSET_TRACEPARENT_LENGTH));
    if traceparent_len > TRACE_TRACEPARENT_CAPACITY {
        SETTINGS.set(settings);
        return;
    }
    for (i, byte) in settings.traceparent[..traceparent_len].iter_mut().enumerate() {
        *byte = header(TRACE_OFFSET_TRACEPARENT + i);
    }
    settings.traceparent_len = traceparent_len;
    for (i, byte) in settings.filter.iter_mut().enumerate() {
        *byte = header(TRACE_OFFSET_FILTER + i);
    }
    settings.level = header(TRACE_OFFSET_LEVEL);
    settings.filter_count = header(TRACE_OFFSET_FILTER_COUNT);
    let flags = header(TRACE_OFFSET_FLAGS) & (TRACE_FLAG_ENABLED | TRACE_FLAG_RUNTIME_SPANS | TRACE_FLAG_MEMORY) as u8;
    let threshold = checked_threshold(&mut settings);
    SETTINGS.set(settings);
    let Some(threshold) = threshold.filter(|_| flags != 0) else { return };
    FLAGS.set(flags);
    THRESHOLD.set(if flags & TRACE_FLAG_ENABLED as u8 != 0 { threshold } else { OFF });
    if op == OP_INIT || op == OP_CALL {
        let mut record = RecordBuf::new(TRACE_KIND_RUN_START as u8, 0, 0);
        record.put_u32(op as u32);
        record.put_u32(0);
        area::append(record.finish());
    }
}

/// Checks the copied level and filter and returns the smallest level they
/// record (the threshold), or `None` when the host cannot have written them.
/// Sets `filter_len` to the bytes the entries use.
fn checked_threshold(settings: &mut Settings) -> Option<u8> {
    let mut threshold = settings.level;
    let mut at = 0;
    for _ in 0..settings.filter_count {
        let [level, len] = *settings.filter.get(at..at + 2)? else { return None };
        at += 2 + usize::from(len);
        if at > TRACE_FILTER_CAPACITY || level > OFF {
            return None;
        }
        threshold = threshold.min(level);
    }
    settings.filter_len = at;
    (settings.level <= OFF).then_some(threshold)
}

/// Target of the runtime's own spans.
pub(crate) const RUNTIME_TARGET: &str = "hyperlight_guest";

/// A runtime span (`guest_init`, `guest_call`, `host_call`) at `Info`, with
/// a `function` field when given: recorded when the run has
/// `TRACE_FLAG_RUNTIME_SPANS` and the level and filter let it through.
pub(crate) fn runtime_span(name: &str, function: Option<&str>) -> super::SpanGuard {
    let level = LogLevel::Info;
    if !runtime_spans() || !super::enabled(level, RUNTIME_TARGET) {
        return super::SpanGuard::inert();
    }
    let field = function.map(|function| ("function", FieldValue::Str(function)));
    super::span::open_span(level, RUNTIME_TARGET, name, field.as_slice())
}
