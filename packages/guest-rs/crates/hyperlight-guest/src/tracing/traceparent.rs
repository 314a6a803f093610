//! The host's W3C traceparent, as the guest sees it.

use core::fmt;

use crate::abi::TRACE_TRACEPARENT_CAPACITY;

/// A W3C `traceparent` value: printable ASCII, at most
/// `TRACE_TRACEPARENT_CAPACITY` bytes. Dereferences to `&str`.
#[derive(Clone, Copy)]
pub struct Traceparent {
    bytes: [u8; TRACE_TRACEPARENT_CAPACITY],
    len: usize,
}

impl Traceparent {
    /// The first `len` bytes of `bytes`, when they are a non-empty run of
    /// printable ASCII.
    #[cfg(feature = "trace")]
    pub(crate) fn new(bytes: [u8; TRACE_TRACEPARENT_CAPACITY], len: usize) -> Option<Self> {
        let text = bytes.get(..len)?;
        (!text.is_empty() && text.iter().all(|b| (0x20..0x7f).contains(b))).then_some(Self { bytes, len })
    }
}

impl core::ops::Deref for Traceparent {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        // `new` admits only printable ASCII, so this never falls back.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl fmt::Display for Traceparent {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl fmt::Debug for Traceparent {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
