//! The panic handler: every panic aborts the run with `ABORT_CODE_PANIC` and
//! the panic text, except the panic Rust raises for heap exhaustion, which is
//! reported as `ABORT_CODE_OUT_OF_MEMORY`.
//!
//! Nothing here allocates: the message is formatted straight into the output
//! buffer (see `exit::abort_fmt`), so panics work with a full heap.

use core::fmt::{self, Write};

use crate::heap::FailedRequest;
use crate::print::FixedString;

/// Whether a panic with `message` is Rust's report of the failed allocation
/// `failed`: the default alloc-error handler (`alloc::alloc::handle_alloc_error`
/// without `#[alloc_error_handler]`) panics with exactly
/// "memory allocation of {size} bytes failed". Requiring both the recorded
/// failure and the exact text keeps a user panic with similar words, or an
/// earlier failure that was handled (`try_reserve`), from being misreported.
pub(crate) fn is_alloc_error(message: &dyn fmt::Display, failed: Option<FailedRequest>) -> bool {
    let Some(failed) = failed else { return false };
    let mut expected = FixedString::<64>::new();
    let mut actual = FixedString::<64>::new();
    write!(expected, "memory allocation of {} bytes failed", failed.size).is_ok()
        && write!(actual, "{message}").is_ok()
        && expected.as_str() == actual.as_str()
}

#[cfg(not(test))]
mod handler {
    use core::panic::PanicInfo;

    use crate::abi::{ABORT_CODE_OUT_OF_MEMORY, ABORT_CODE_PANIC};
    use crate::cell::GlobalCell;
    use crate::exit::{abort_fmt, abort_without_message};
    use crate::heap::{self, ALLOCATOR};

    /// Set on the first panic: a panic while reporting one (a `Display` impl
    /// that panics) must not recurse.
    static PANICKING: GlobalCell<bool> = GlobalCell::new(false);

    #[panic_handler]
    fn panic(info: &PanicInfo<'_>) -> ! {
        if PANICKING.get() {
            abort_without_message(ABORT_CODE_PANIC);
        }
        PANICKING.set(true);

        let message = info.message();
        let failed = heap::last_failure();
        if let Some(failed) = failed.filter(|_| super::is_alloc_error(&message, failed)) {
            let stats = ALLOCATOR.stats();
            abort_fmt(
                ABORT_CODE_OUT_OF_MEMORY,
                format_args!(
                    "out of memory: an allocation of {} bytes (align {}) failed; {} of the heap's {} bytes are free, \
                     the largest free block is {} bytes",
                    failed.size, failed.align, stats.free, stats.size, stats.largest_free
                ),
            );
        }
        match info.location() {
            Some(at) => abort_fmt(
                ABORT_CODE_PANIC,
                format_args!("panicked at {}:{}:{}: {message}", at.file(), at.line(), at.column()),
            ),
            None => abort_fmt(ABORT_CODE_PANIC, format_args!("panicked: {message}")),
        }
    }

    /// The prebuilt `core`/`alloc` are compiled with `panic=unwind` and keep
    /// references to the unwinder in their landing pads. With `panic=abort`
    /// nothing ever unwinds, so these are never called; they only satisfy
    /// the linker.
    #[unsafe(no_mangle)]
    #[allow(non_snake_case)]
    extern "C" fn _Unwind_Resume() -> ! {
        abort_without_message(ABORT_CODE_PANIC)
    }

    /// See [`_Unwind_Resume`]: referenced from `.eh_frame`, never called.
    #[unsafe(no_mangle)]
    extern "C" fn rust_eh_personality() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_only_the_recorded_alloc_failure() {
        let failed = Some(FailedRequest { size: 4096, align: 8 });
        let msg = |s: &'static str| s;
        assert!(is_alloc_error(&msg("memory allocation of 4096 bytes failed"), failed));
        assert!(!is_alloc_error(&msg("memory allocation of 4096 bytes failed"), None));
        assert!(!is_alloc_error(&msg("memory allocation of 4097 bytes failed"), failed));
        assert!(!is_alloc_error(&msg("memory allocation of 4096 bytes failed!"), failed));
        let long = "x".repeat(100);
        assert!(!is_alloc_error(&long, failed));
    }
}
