//! Building one trace record on the stack (`docs/tracing-format.md`,
//! "Records"), so that user code that runs while it is built (a `Display`
//! impl that allocates, logs, traces or calls the host) cannot interleave
//! with it in the trace area: the finished record is appended in one step.

use core::fmt::{self, Write};
use core::mem::MaybeUninit;

use crate::abi::{
    TRACE_FIELD_BOOL, TRACE_FIELD_F64, TRACE_FIELD_I64, TRACE_FIELD_STRING, TRACE_FIELD_U64, TRACE_MAX_NAME_SIZE,
    TRACE_MAX_RECORD_SIZE, TRACE_MAX_STRING_VALUE_SIZE, TRACE_RECORD_HEADER_SIZE,
};

use super::value::FieldValue;

/// Offset of a named body's `name_length` (u16), `target_length` (u8) and
/// `field_count` (u8), after the header and the u32 `parent`.
const NAMED_LENGTHS: usize = TRACE_RECORD_HEADER_SIZE + 4;
/// Bytes of a field before its key: type, key length, value length.
const FIELD_HEADER_SIZE: usize = 4;
/// Longest key or target: their lengths are one byte.
const MAX_SHORT_TEXT: usize = u8::MAX as usize;

/// One record being built: at most `TRACE_MAX_RECORD_SIZE` bytes, of which
/// the first `len` are written.
pub(crate) struct RecordBuf {
    bytes: [MaybeUninit<u8>; TRACE_MAX_RECORD_SIZE],
    len: usize,
    /// Fields written so far (named bodies).
    fields: u8,
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The guest's time stamp counter.
fn tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time stamp counter; the host leaves
    // CR4.TSD clear, so it works at CPL3.
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl RecordBuf {
    /// A record of `kind` with its header filled in (size set by `finish`).
    #[inline]
    pub(crate) fn new(kind: u8, level: u8, span: u32) -> Self {
        let mut record = Self { bytes: [MaybeUninit::uninit(); TRACE_MAX_RECORD_SIZE], len: 0, fields: 0 };
        record.put(&[kind, level, 0, 0]);
        record.put_u32(span);
        record.put(&tsc().to_le_bytes());
        record
    }

    /// A record with a named body; `name` and `target` follow with
    /// [`RecordBuf::name`] and [`RecordBuf::target`], then the fields.
    #[inline]
    pub(crate) fn named(kind: u8, level: u8, span: u32, parent: u32) -> Self {
        let mut record = Self::new(kind, level, span);
        record.put_u32(parent);
        record.put(&[0; 4]);
        record
    }

    /// Bytes left before `TRACE_MAX_RECORD_SIZE`.
    fn room(&self) -> usize {
        TRACE_MAX_RECORD_SIZE - self.len
    }

    /// Appends `bytes`; callers never pass more than [`RecordBuf::room`].
    #[inline]
    fn put(&mut self, bytes: &[u8]) {
        let dest = &mut self.bytes[self.len..self.len + bytes.len()];
        // SAFETY: `dest` is exactly `bytes.len()` bytes of our own buffer,
        // and `bytes` cannot overlap it (we hold `&mut self`).
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), dest.as_mut_ptr().cast::<u8>(), bytes.len()) };
        self.len += bytes.len();
    }

    /// Appends a little-endian u32.
    pub(crate) fn put_u32(&mut self, value: u32) {
        self.put(&value.to_le_bytes());
    }

    /// Appends a little-endian u64.
    pub(crate) fn put_u64(&mut self, value: u64) {
        self.put(&value.to_le_bytes());
    }

    /// Overwrites `bytes` at `at`, inside what is already written.
    fn patch(&mut self, at: usize, bytes: &[u8]) {
        for (slot, &b) in self.bytes[at..at + bytes.len()].iter_mut().zip(bytes) {
            slot.write(b);
        }
    }

    /// Appends the name (cut at `TRACE_MAX_NAME_SIZE` bytes).
    pub(crate) fn name(&mut self, name: &str) {
        let name = cut(name, TRACE_MAX_NAME_SIZE);
        self.put(name.as_bytes());
        self.patch(NAMED_LENGTHS, &(name.len() as u16).to_le_bytes());
    }

    /// Formats `args` as the name (cut at `TRACE_MAX_NAME_SIZE` bytes).
    pub(crate) fn name_fmt(&mut self, args: fmt::Arguments<'_>) {
        if let Some(text) = args.as_str() {
            return self.name(text);
        }
        let start = self.len;
        let mut writer = CutWriter { record: self, limit: start + TRACE_MAX_NAME_SIZE, cut: false };
        // A failing Display impl only shortens the name.
        let _ = writer.write_fmt(args);
        let len = (self.len - start) as u16;
        self.patch(NAMED_LENGTHS, &len.to_le_bytes());
    }

    /// Appends the target (cut at 255 bytes).
    pub(crate) fn target(&mut self, target: &str) {
        let target = cut(target, MAX_SHORT_TEXT);
        self.put(target.as_bytes());
        self.patch(NAMED_LENGTHS + 2, &[target.len() as u8]);
    }

    /// Appends a field, or leaves it out when it no longer fits (or the
    /// record already has 255 fields).
    pub(crate) fn field(&mut self, key: &str, value: FieldValue<'_>) {
        let key = cut(key, MAX_SHORT_TEXT);
        let (kind, fixed_len) = match value {
            FieldValue::Str(s) => (TRACE_FIELD_STRING, cut(s, TRACE_MAX_STRING_VALUE_SIZE).len()),
            FieldValue::I64(_) => (TRACE_FIELD_I64, 8),
            FieldValue::U64(_) => (TRACE_FIELD_U64, 8),
            FieldValue::F64(_) => (TRACE_FIELD_F64, 8),
            FieldValue::Bool(_) => (TRACE_FIELD_BOOL, 1),
            FieldValue::Display(_) | FieldValue::Debug(_) => (TRACE_FIELD_STRING, 0),
        };
        if self.fields == u8::MAX || FIELD_HEADER_SIZE + key.len() + fixed_len > self.room() {
            return;
        }
        let start = self.len;
        self.put(&[kind as u8, key.len() as u8, 0, 0]);
        self.put(key.as_bytes());
        match value {
            FieldValue::Str(s) => self.put(cut(s, TRACE_MAX_STRING_VALUE_SIZE).as_bytes()),
            FieldValue::I64(v) => self.put(&v.to_le_bytes()),
            FieldValue::U64(v) => self.put(&v.to_le_bytes()),
            FieldValue::F64(v) => self.put(&v.to_le_bytes()),
            FieldValue::Bool(v) => self.put(&[u8::from(v)]),
            FieldValue::Display(v) => {
                if !self.formatted_value(format_args!("{v}")) {
                    self.len = start;
                    return;
                }
            }
            FieldValue::Debug(v) => {
                if !self.formatted_value(format_args!("{v:?}")) {
                    self.len = start;
                    return;
                }
            }
        }
        let value_len = (self.len - start - FIELD_HEADER_SIZE - key.len()) as u16;
        self.patch(start + 2, &value_len.to_le_bytes());
        self.fields += 1;
        self.patch(NAMED_LENGTHS + 3, &[self.fields]);
    }

    /// Formats a string value; `false` when it was cut by the end of the
    /// record rather than by `TRACE_MAX_STRING_VALUE_SIZE` (it no longer fits).
    fn formatted_value(&mut self, args: fmt::Arguments<'_>) -> bool {
        let limit = self.len + TRACE_MAX_STRING_VALUE_SIZE;
        let fits = limit <= TRACE_MAX_RECORD_SIZE;
        let mut writer = CutWriter { record: self, limit: limit.min(TRACE_MAX_RECORD_SIZE), cut: false };
        // A failing Display impl only shortens the value.
        let _ = writer.write_fmt(args);
        fits || !writer.cut
    }

    /// The finished record: its size patched into the header.
    pub(crate) fn finish(&mut self) -> &[u8] {
        let size = self.len as u16;
        self.patch(2, &size.to_le_bytes());
        // SAFETY: the first `len` bytes are written (every `put` advances
        // `len` only over bytes it wrote).
        unsafe { core::slice::from_raw_parts(self.bytes.as_ptr().cast::<u8>(), self.len) }
    }
}

/// Formats into a record up to `limit`, cutting at a character boundary.
struct CutWriter<'a> {
    record: &'a mut RecordBuf,
    limit: usize,
    /// Something was left out.
    cut: bool,
}

impl Write for CutWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit - self.record.len;
        let kept = cut(s, room);
        self.record.put(kept.as_bytes());
        if kept.len() < s.len() {
            self.cut = true;
            // Stop formatting: nothing more fits.
            return Err(fmt::Error);
        }
        Ok(())
    }
}
