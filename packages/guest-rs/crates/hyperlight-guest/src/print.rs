//! Printing to the host's print function (`DEBUG_PRINT` text frames).
//!
//! Text is formatted straight into the output buffer: no allocation, and any
//! length. When the buffer fills up the writer sends what it has as one frame
//! and starts over, splitting only at UTF-8 character boundaries (the host
//! decodes each frame on its own). Each `print!` therefore costs one exit per
//! buffer-full, at least one.

use core::fmt::{self, Write};

use crate::abi::PORT_DEBUG_PRINT;
use crate::buffer::SharedBuffer;
use crate::entry;
use crate::exit::out32;

/// Formats text into text frames in the output buffer, sending each full
/// frame to `full_port`.
pub(crate) struct FrameWriter {
    buffer: SharedBuffer,
    full_port: u16,
    /// Payload bytes in the current frame.
    used: usize,
}

impl FrameWriter {
    /// A writer starting an empty frame in `buffer`.
    pub(crate) fn new(buffer: SharedBuffer, full_port: u16) -> Self {
        Self { buffer, full_port, used: 0 }
    }

    /// Sends the current frame to `full_port` and starts a new one.
    fn send(&mut self) {
        self.finish();
        out32(self.full_port, 0);
        self.used = 0;
    }

    /// Writes the header of the current frame (the caller then exits).
    pub(crate) fn finish(&mut self) {
        self.buffer.set_payload_size(self.used);
    }

    /// Whether the current frame holds any text.
    pub(crate) fn is_empty(&self) -> bool {
        self.used == 0
    }
}

impl Write for FrameWriter {
    fn write_str(&mut self, mut s: &str) -> fmt::Result {
        let capacity = self.buffer.payload_capacity();
        // Below 4 bytes a character might never fit (entry checks the PEB for more).
        if capacity < 4 {
            return Err(fmt::Error);
        }
        while !s.is_empty() {
            let room = capacity - self.used;
            let mut cut = s.len().min(room);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.buffer.write_payload(self.used, &s.as_bytes()[..cut]);
            self.used += cut;
            s = &s[cut..];
            if !s.is_empty() {
                self.send();
            }
        }
        Ok(())
    }
}

/// Prints already formatted arguments; what [`print!`](crate::print!) and
/// [`println!`](crate::println!) expand to.
#[doc(hidden)]
pub fn print_fmt(args: fmt::Arguments<'_>) {
    // C's stdout may hold text printed before this: it goes first.
    #[cfg(feature = "libc")]
    crate::libc::flush_output();
    send_fmt(args);
}

/// Sends formatted text as text frames right away (the C library's own
/// writes come here: flushing it again from inside a write would re-enter it).
pub(crate) fn send_fmt(args: fmt::Arguments<'_>) {
    let Some(env) = entry::env() else { return };
    let mut writer = FrameWriter::new(env.output, PORT_DEBUG_PRINT);
    // A failing Display impl only truncates the text.
    let _ = writer.write_fmt(args);
    if !writer.is_empty() {
        writer.send();
    }
}

/// Prints `text` with the host's print function (no newline added).
pub fn print_str(text: &str) {
    print_fmt(format_args!("{text}"));
}

/// Prints bytes that should be UTF-8 text (from C code: `hl_print`, or the
/// libc's writes to stdout and stderr); each invalid sequence arrives as
/// U+FFFD, since the host decodes every frame as UTF-8.
pub fn print_bytes(bytes: &[u8]) {
    if !bytes.is_empty() {
        print_fmt(format_args!("{}", Lossy(bytes)));
    }
}

/// Bytes shown as UTF-8, with U+FFFD for each invalid sequence; formats
/// without allocating.
pub struct Lossy<'a>(pub &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            if !chunk.invalid().is_empty() {
                f.write_char(char::REPLACEMENT_CHARACTER)?;
            }
        }
        Ok(())
    }
}

/// Prints to the host's print function, like `std::print!`.
///
/// ```ignore
/// print!("{} + {} = ", a, b);
/// ```
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::print::print_fmt(::core::format_args!($($arg)*))
    };
}

/// Prints to the host's print function with a newline, like `std::println!`.
/// The text and the newline go out in the same frame.
///
/// ```ignore
/// println!("hello from the guest");
/// ```
#[macro_export]
macro_rules! println {
    () => {
        $crate::print::print_str("\n")
    };
    ($($arg:tt)*) => {
        $crate::print::print_fmt(::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

/// A string formatted into a fixed stack buffer, for messages that must not
/// allocate (the heap may be exhausted). Text beyond `N` bytes is dropped at
/// a character boundary and `write_str` reports the overflow.
pub(crate) struct FixedString<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> FixedString<N> {
    /// An empty string.
    pub(crate) const fn new() -> Self {
        Self { bytes: [0; N], len: 0 }
    }

    /// The text written so far.
    pub(crate) fn as_str(&self) -> &str {
        // Only whole characters of valid `&str`s are ever copied in.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl<const N: usize> Write for FixedString<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut cut = s.len().min(N - self.len);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.bytes[self.len..self.len + cut].copy_from_slice(&s.as_bytes()[..cut]);
        self.len += cut;
        if cut == s.len() { Ok(()) } else { Err(fmt::Error) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_replaces_each_invalid_sequence() {
        assert_eq!(alloc::format!("{}", Lossy(b"ok \xff\xfe \xc3\xa9 \xe2\x82")), "ok \u{fffd}\u{fffd} é \u{fffd}");
    }

    #[test]
    fn fixed_string_truncates_at_char_boundaries() {
        let mut s = FixedString::<5>::new();
        assert!(write!(s, "ab").is_ok());
        assert!(write!(s, "cé€").is_err());
        assert_eq!(s.as_str(), "abcé");
    }
}
