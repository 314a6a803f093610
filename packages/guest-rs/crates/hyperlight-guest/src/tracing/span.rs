//! Spans and events: ids, the stack of open spans, and their records.
//!
//! ```text
//! span!() --SPAN_OPEN appended--> open (on the stack) --guard dropped--> SPAN_CLOSE
//!    |                               |
//!    +--filtered, too deep, lost--> inert guard (does nothing)
//!                                    +--halt/abort--> SPAN_CLOSE by the runtime
//! ```
//!
//! Span ids count from 1 in every run. A guard remembers its run, so one
//! kept in a static past the end of its run does nothing later.

use core::fmt;

use crate::abi::{
    TRACE_KIND_EVENT, TRACE_KIND_SPAN_CLOSE, TRACE_KIND_SPAN_FIELDS, TRACE_KIND_SPAN_OPEN, TRACE_MAX_OPEN_SPANS,
};
use crate::cell::GlobalCell;
use crate::log::LogLevel;

use super::guard::SpanGuard;
use super::record::RecordBuf;
use super::value::FieldValue;
use super::{area, run};

/// The open spans of the current run, innermost last.
struct OpenSpans {
    ids: [u32; TRACE_MAX_OPEN_SPANS],
    depth: usize,
    next_id: u32,
}

static OPEN: GlobalCell<OpenSpans> =
    GlobalCell::new(OpenSpans { ids: [0; TRACE_MAX_OPEN_SPANS], depth: 0, next_id: 1 });

/// The innermost open span (0 = none).
pub(crate) fn current() -> u32 {
    OPEN.with(|s| s.depth.checked_sub(1).map_or(0, |top| s.ids[top]))
}

/// Forgets every open span and restarts ids at 1.
pub(crate) fn reset() {
    OPEN.with(|s| {
        s.depth = 0;
        s.next_id = 1;
    });
}

/// Opens a span and returns its guard; what `span!` expands to once the
/// level passed the threshold and the filter.
#[inline(never)]
pub fn open_span(level: LogLevel, target: &str, name: &str, fields: &[(&str, FieldValue<'_>)]) -> SpanGuard {
    let Some((id, parent)) = OPEN.with(|s| {
        (s.depth < TRACE_MAX_OPEN_SPANS).then(|| {
            let id = s.next_id;
            s.next_id = s.next_id.wrapping_add(1).max(1);
            (id, s.depth.checked_sub(1).map_or(0, |top| s.ids[top]))
        })
    }) else {
        area::lost();
        return SpanGuard::inert();
    };
    let mut record = RecordBuf::named(TRACE_KIND_SPAN_OPEN as u8, level as u8, id, parent);
    record.name(name);
    record.target(target);
    for &(key, value) in fields {
        record.field(key, value);
    }
    if !area::append(record.finish()) {
        return SpanGuard::inert();
    }
    // Field formatting ran user code, which may have opened spans of its
    // own; a full stack now means this span cannot be closed in order.
    let pushed = OPEN.with(|s| {
        let fits = s.depth < TRACE_MAX_OPEN_SPANS;
        if fits {
            s.ids[s.depth] = id;
            s.depth += 1;
        }
        fits
    });
    if !pushed {
        append_close(id);
        return SpanGuard::inert();
    }
    SpanGuard::open(id, run::run_number())
}

/// Appends `SPAN_CLOSE` for `id`. Only `SPAN_OPEN` and `EVENT` records
/// carry a level; the others have 0.
fn append_close(id: u32) {
    area::append(RecordBuf::new(TRACE_KIND_SPAN_CLOSE as u8, 0, id).finish());
}

/// Closes span `id` of run `run` if it is still open.
pub(crate) fn close(id: u32, run: u32) {
    if run != run::run_number() {
        return;
    }
    let open = OPEN.with(|s| {
        let Some(at) = s.ids[..s.depth].iter().rposition(|&open| open == id) else { return false };
        s.ids.copy_within(at + 1..s.depth, at);
        s.depth -= 1;
        true
    });
    if open {
        append_close(id);
    }
}

/// Closes every open span, innermost first: the runtime calls this before
/// it halts or aborts, so the host sees whole spans.
pub(crate) fn close_all() {
    // Taken off the stack first: a failure while appending must not find
    // them again.
    let (ids, depth) = OPEN.with(|s| (s.ids, core::mem::take(&mut s.depth)));
    for &id in ids[..depth].iter().rev() {
        append_close(id);
    }
}

/// Records an event; what `event!` expands to once the level passed the
/// threshold and the filter.
#[inline(never)]
pub fn event(level: LogLevel, target: &str, message: fmt::Arguments<'_>, fields: &[(&str, FieldValue<'_>)]) {
    let mut record = RecordBuf::named(TRACE_KIND_EVENT as u8, level as u8, current(), 0);
    record.name_fmt(message);
    record.target(target);
    for &(key, value) in fields {
        record.field(key, value);
    }
    area::append(record.finish());
}

/// Records more fields of an open span (`SPAN_FIELDS`); what `span_record!`
/// expands to.
#[inline(never)]
pub fn record_fields(guard: &SpanGuard, fields: &[(&str, FieldValue<'_>)]) {
    let Some(id) = guard.recording_id().filter(|id| OPEN.with(|s| s.ids[..s.depth].contains(id))) else { return };
    let mut record = RecordBuf::named(TRACE_KIND_SPAN_FIELDS as u8, 0, id, 0);
    for &(key, value) in fields {
        record.field(key, value);
    }
    area::append(record.finish());
}

/// Opens a span like [`open_span`] and returns its id instead of a guard (0
/// when it is not recorded): the C API's `hl_trace_span_open`, whose callers
/// close spans by id.
pub fn open_span_id(level: LogLevel, target: &str, name: &str, fields: &[(&str, FieldValue<'_>)]) -> u32 {
    let guard = core::mem::ManuallyDrop::new(open_span(level, target, name, fields));
    guard.recording_id().unwrap_or(0)
}

/// Closes span `id` of the current run if it is open (0 does nothing).
pub fn close_span_id(id: u32) {
    if id != 0 {
        close(id, run::run_number());
    }
}

/// Records more fields of span `id` of the current run, if it is open.
pub fn record_fields_id(id: u32, fields: &[(&str, FieldValue<'_>)]) {
    if id != 0 {
        let guard = core::mem::ManuallyDrop::new(SpanGuard::open(id, run::run_number()));
        record_fields(&guard, fields);
    }
}
