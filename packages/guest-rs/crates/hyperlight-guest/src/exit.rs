//! Exits to the host. [`out32`] is the only place the runtime executes `out`;
//! everything else (halt, host calls, prints, aborts) goes through it.

use core::fmt::{self, Write};

use crate::abi::{PORT_ABORT, PORT_ABORT_CHUNK, PORT_HALT};
use crate::entry;
use crate::print::FrameWriter;

/// Writes `value` to I/O port `port` (`out dx, eax`): one VM exit. The host
/// handles the port (`docs/abi.md`, "Exits") and, for the ports that resume,
/// continues after the instruction.
///
/// The asm block is a compiler memory barrier (no `nomem`), so every buffer
/// write before it is visible to the host and every read after it sees what
/// the host wrote.
#[cfg(not(test))]
pub fn out32(port: u16, value: u32) {
    // SAFETY: the TSS I/O bitmap grants the guest every ABI port; `out`
    // touches no guest memory or registers besides dx and eax.
    unsafe { core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack, preserves_flags)) };
}

/// Host tests: the fake host plays the hypervisor's part.
#[cfg(test)]
pub fn out32(port: u16, value: u32) {
    crate::test_host::on_out(port, value);
}

/// The host must not resume a guest after `HALT` or `ABORT`; if it does,
/// `ud2` turns that into an invalid-opcode exception it will report.
fn trap_after_final_exit() -> ! {
    #[cfg(not(test))]
    // SAFETY: `ud2` only raises #UD; it does not return.
    unsafe {
        core::arch::asm!("ud2", options(noreturn, nostack))
    }
    #[cfg(test)]
    unreachable!("the fake host resumed the guest after a final exit")
}

/// Closes the spans still open before the run ends, so the host sees whole
/// spans (the records ride on the final exit).
#[inline(always)]
fn close_open_spans() {
    #[cfg(feature = "trace")]
    crate::tracing::span::close_all();
}

/// Ends the run successfully: the output buffer holds the reply.
pub(crate) fn halt() -> ! {
    close_open_spans();
    out32(PORT_HALT, 0);
    trap_after_final_exit()
}

/// Ends the run with abort `code` and no message frame, for when the output
/// buffer is unknown (no valid PEB) or unusable.
pub(crate) fn abort_without_message(code: u32) -> ! {
    close_open_spans();
    out32(PORT_ABORT, code);
    trap_after_final_exit()
}

/// Ends the run with abort `code` and the formatted `message`, sent as text
/// frames: `ABORT_CHUNK` exits while the output buffer fills up, then `ABORT`
/// with the rest. Formatting writes straight into the output buffer, so this
/// works with an exhausted heap.
pub fn abort_fmt(code: u32, message: fmt::Arguments<'_>) -> ! {
    let Some(env) = entry::env() else { abort_without_message(code) };
    close_open_spans();
    #[cfg(feature = "libc")]
    crate::libc::flush_output();
    let mut writer = FrameWriter::new(env.output, PORT_ABORT_CHUNK);
    // A failing Display impl only truncates the message.
    let _ = writer.write_fmt(message);
    writer.finish();
    out32(PORT_ABORT, code);
    trap_after_final_exit()
}

/// Ends the guest run immediately: the host raises `GuestAbortedError` with
/// `code` and `message`, and the sandbox is poisoned.
///
/// Codes from `ABORT_CODE_RESERVED_MIN` (`0x8000_0000`) up are reserved for
/// the runtime (panic, out of memory, bad environment); use smaller ones.
///
/// ```ignore
/// if config.is_empty() {
///     hyperlight_guest::abort(2, "no configuration in init data");
/// }
/// ```
pub fn abort(code: u32, message: &str) -> ! {
    abort_fmt(code, format_args!("{message}"))
}
