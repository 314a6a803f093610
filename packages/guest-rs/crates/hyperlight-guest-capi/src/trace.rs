//! The C tracing API (`hyperlight/trace.h`) over the runtime's tracing: the
//! same records, ids and filters as Rust guests. `hl_trace_min_level`, the
//! byte the C macros test, is the runtime's own threshold, exported under
//! that name by hyperlight-guest.

use core::ffi::c_char;
use core::mem::MaybeUninit;

use hyperlight_guest::abi::{
    TRACE_FIELD_BOOL, TRACE_FIELD_F64, TRACE_FIELD_I64, TRACE_FIELD_STRING, TRACE_FIELD_U64, TRACE_TRACEPARENT_CAPACITY,
};
use hyperlight_guest::print::Lossy;
use hyperlight_guest::tracing::__private::{close_span_id, event, open_span_id, record_fields_id};
use hyperlight_guest::tracing::{FieldValue, enabled, traceparent};

use crate::output::level_of;
use crate::text::{c_bytes, c_str, utf8_prefix};
use crate::types::{HlSlice, HlTraceField, slice_of};

/// Most fields a record can carry (its field count is one byte).
const MAX_FIELDS: usize = 255;

/// `hl_trace_enabled`: whether a span or event at `level` with `target`
/// would be recorded in this run.
///
/// # Safety
/// `target` must be NUL-terminated (or null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_trace_enabled(level: u32, target: *const c_char) -> bool {
    // SAFETY: per the caller.
    level_of(level).is_some_and(|level| enabled(level, unsafe { c_str(target) }))
}

/// Runs `f` with `fields` as the runtime's fields, without allocating (the
/// allocator may be recording this run). Fields of unknown types are left
/// out, as are fields past the 255th.
///
/// # Safety
/// `fields` must hold `count` fields with valid keys and strings (or be null).
unsafe fn with_fields<R>(
    fields: *const HlTraceField,
    count: usize,
    f: impl FnOnce(&[(&str, FieldValue<'_>)]) -> R,
) -> R {
    let mut converted = [const { MaybeUninit::<(&str, FieldValue<'_>)>::uninit() }; MAX_FIELDS];
    let mut n = 0;
    let given = if fields.is_null() { 0 } else { count };
    for i in 0..given {
        if n == MAX_FIELDS {
            break;
        }
        // SAFETY: `fields` holds `count` fields (caller); each union member
        // read is the one `ty` names.
        let value = unsafe {
            let field = &*fields.add(i);
            let d = field.data;
            let value = match usize::from(field.ty) {
                TRACE_FIELD_STRING => FieldValue::Str(utf8_prefix(string_of(d.str))),
                TRACE_FIELD_I64 => FieldValue::I64(d.i64),
                TRACE_FIELD_U64 => FieldValue::U64(d.u64),
                TRACE_FIELD_F64 => FieldValue::F64(d.f64),
                TRACE_FIELD_BOOL => FieldValue::Bool(d.b != 0),
                _ => continue,
            };
            (c_str(field.key), value)
        };
        converted[n].write(value);
        n += 1;
    }
    // SAFETY: the first `n` entries were written above.
    f(unsafe { core::slice::from_raw_parts(converted.as_ptr().cast(), n) })
}

/// A string field's bytes: `len` bytes, or up to the NUL when `len` is
/// `SIZE_MAX`.
///
/// # Safety
/// The string must be valid as described.
unsafe fn string_of<'a>(s: HlSlice) -> &'a [u8] {
    // SAFETY: per the caller.
    unsafe { if s.len == usize::MAX { c_bytes(s.data.cast()) } else { slice_of(s) } }
}

/// `hl_trace_span_open`: opens a span as a child of the innermost open one;
/// 0 when it is not recorded.
///
/// # Safety
/// `name` and `target` must be NUL-terminated (or null), `fields` as for
/// [`with_fields`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_trace_span_open(
    level: u32,
    name: *const c_char,
    target: *const c_char,
    fields: *const HlTraceField,
    count: usize,
) -> u32 {
    // SAFETY: per the caller.
    let (name, target) = unsafe { (c_str(name), c_str(target)) };
    let Some(level) = level_of(level).filter(|&level| enabled(level, target)) else { return 0 };
    // SAFETY: per the caller.
    unsafe { with_fields(fields, count, |fields| open_span_id(level, target, name, fields)) }
}

/// `hl_trace_span_close`: closes an open span (0 or a closed one: ignored).
#[unsafe(no_mangle)]
pub extern "C" fn hl_trace_span_close(span: u32) {
    close_span_id(span);
}

/// `hl_trace_span_record`: adds fields to an open span.
///
/// # Safety
/// `fields` as for [`with_fields`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_trace_span_record(span: u32, fields: *const HlTraceField, count: usize) {
    if span != 0 {
        // SAFETY: per the caller.
        unsafe { with_fields(fields, count, |fields| record_fields_id(span, fields)) };
    }
}

/// Records an event whose message `c/variadic.c` formatted (`hl_trace_vevent`
/// checked `hl_trace_enabled` first).
///
/// # Safety
/// `target` must be NUL-terminated (or null), `fields` as for
/// [`with_fields`], `message` valid for `len` reads.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_rt_trace_event(
    level: u32,
    target: *const c_char,
    fields: *const HlTraceField,
    count: usize,
    message: *const c_char,
    len: usize,
) {
    let Some(level) = level_of(level) else { return };
    // SAFETY: per the caller.
    unsafe {
        let (target, message) = (c_str(target), slice_of(HlSlice { data: message.cast(), len }));
        with_fields(fields, count, |fields| event(level, target, format_args!("{}", Lossy(message)), fields));
    }
}

/// The traceparent of the current run, NUL-terminated, for
/// [`hl_trace_traceparent`].
static mut TRACEPARENT: [u8; TRACE_TRACEPARENT_CAPACITY + 1] = [0; TRACE_TRACEPARENT_CAPACITY + 1];

/// `hl_trace_traceparent`: the host's W3C traceparent for this run, or null.
#[unsafe(no_mangle)]
pub extern "C" fn hl_trace_traceparent() -> *const c_char {
    let Some(tp) = traceparent() else { return core::ptr::null() };
    let buffer = &raw mut TRACEPARENT;
    // SAFETY: single-threaded; the buffer holds the capacity plus a NUL and
    // a traceparent is at most the capacity.
    unsafe {
        let dest = buffer.cast::<u8>();
        core::ptr::copy_nonoverlapping(tp.as_ptr(), dest, tp.len());
        dest.add(tp.len()).write(0);
        dest.cast()
    }
}
