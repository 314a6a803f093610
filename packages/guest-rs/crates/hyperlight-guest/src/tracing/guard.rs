//! The guard `span!` returns.

/// An open span; dropping it closes the span (`SPAN_CLOSE`). What
/// [`span!`](crate::span!) returns. A guard for a span that was not recorded
/// (filtered out, nested too deep, or tracing compiled out) does nothing;
/// without the `trace` feature it is an empty type with no `Drop`.
#[must_use = "the span closes when the guard is dropped; bind it with `let _span = ...`"]
pub struct SpanGuard {
    /// The span's id, 0 for an inert guard.
    #[cfg(feature = "trace")]
    id: u32,
    /// The run the span belongs to.
    #[cfg(feature = "trace")]
    run: u32,
}

impl SpanGuard {
    /// A guard that does nothing.
    #[inline(always)]
    pub const fn inert() -> Self {
        Self {
            #[cfg(feature = "trace")]
            id: 0,
            #[cfg(feature = "trace")]
            run: 0,
        }
    }

    /// The guard of span `id`, opened in run `run`.
    #[cfg(feature = "trace")]
    pub(crate) const fn open(id: u32, run: u32) -> Self {
        Self { id, run }
    }

    /// Whether the span was recorded (and is still open, unless the run ended).
    #[inline]
    pub fn is_recording(&self) -> bool {
        self.recording_id().is_some()
    }

    /// The span's id while it belongs to the current run.
    #[inline]
    pub(crate) fn recording_id(&self) -> Option<u32> {
        #[cfg(feature = "trace")]
        return (self.id != 0 && self.run == super::run::run_number()).then_some(self.id);
        #[cfg(not(feature = "trace"))]
        None
    }
}

#[cfg(feature = "trace")]
impl Drop for SpanGuard {
    #[inline]
    fn drop(&mut self) {
        if self.id != 0 {
            super::span::close(self.id, self.run);
        }
    }
}
