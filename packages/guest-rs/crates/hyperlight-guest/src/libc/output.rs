//! Bytes C writes to stdout or stderr, sent to the host's print function.
//!
//! Text frames carry UTF-8 and the host decodes each frame on its own, while
//! C writes arbitrary bytes, and an unbuffered stream writes a multi-byte
//! character one byte per `write` (`putchar`). So the bytes of every write go
//! out as one frame of UTF-8 text: invalid sequences become U+FFFD, and a
//! character cut off at the end of a write is held back (at most 3 bytes)
//! and completed by the next write. A cut-off character that no write ever
//! completes is dropped.

use core::cell::Cell;
use core::fmt::{self, Display, Write};
use core::str;

use crate::cell::GlobalCell;
use crate::print::send_fmt;

/// The start of a UTF-8 character that a write cut off.
#[derive(Clone, Copy, Default)]
struct Pending {
    bytes: [u8; 4],
    len: usize,
}

/// What the previous write left incomplete (stdout and stderr share it: the
/// host sees one stream).
static PENDING: GlobalCell<Pending> = GlobalCell::new(Pending { bytes: [0; 4], len: 0 });

/// The pieces of one write, as text.
struct Lossy<'a> {
    pieces: &'a [&'a [u8]],
    pending: Cell<Pending>,
}

impl Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut pending = self.pending.get();
        for piece in self.pieces {
            write_lossy(f, &mut pending, piece)?;
        }
        self.pending.set(pending);
        Ok(())
    }
}

/// Writes `input` as text, first completing the character in `pending`.
fn write_lossy(out: &mut impl Write, pending: &mut Pending, mut input: &[u8]) -> fmt::Result {
    while pending.len > 0 {
        let Some((&byte, rest)) = input.split_first() else { return Ok(()) };
        pending.bytes[pending.len] = byte;
        match str::from_utf8(&pending.bytes[..=pending.len]) {
            Ok(ch) => {
                out.write_str(ch)?;
                pending.len = 0;
                input = rest;
            }
            Err(e) if e.error_len().is_none() => {
                pending.len += 1;
                input = rest;
            }
            Err(_) => {
                // The held bytes were a valid start, so `byte` broke them:
                // they become U+FFFD and `byte` starts afresh.
                out.write_char(char::REPLACEMENT_CHARACTER)?;
                pending.len = 0;
            }
        }
    }
    loop {
        match str::from_utf8(input) {
            Ok(text) => return out.write_str(text),
            Err(e) => {
                let (valid, rest) = input.split_at(e.valid_up_to());
                out.write_str(str::from_utf8(valid).unwrap_or_default())?;
                match e.error_len() {
                    Some(bad) => {
                        out.write_char(char::REPLACEMENT_CHARACTER)?;
                        input = &rest[bad..];
                    }
                    None => {
                        // An incomplete character at the end: at most 3 bytes.
                        pending.bytes[..rest.len()].copy_from_slice(rest);
                        pending.len = rest.len();
                        return Ok(());
                    }
                }
            }
        }
    }
}

/// Sends the concatenation of `pieces` to the host's print function (one
/// frame per output buffer's worth; none when there is no text).
pub(super) fn print_bytes(pieces: &[&[u8]]) {
    let lossy = Lossy { pieces, pending: Cell::new(PENDING.get()) };
    send_fmt(format_args!("{lossy}"));
    PENDING.set(lossy.pending.get());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(writes: &[&[u8]]) -> Vec<String> {
        let mut pending = Pending::default();
        writes
            .iter()
            .map(|w| {
                let mut s = String::new();
                write_lossy(&mut s, &mut pending, w).unwrap();
                s
            })
            .collect()
    }

    #[test]
    fn passes_text_and_replaces_invalid_bytes() {
        assert_eq!(decode(&[b"plain", b"a\xffb", b"\xc3\xa9\xe2\x82\xac", b""]), ["plain", "a\u{fffd}b", "é€", ""]);
        assert_eq!(decode(&[b"\xed\xa0\x80x"]), ["\u{fffd}\u{fffd}\u{fffd}x"], "surrogates are invalid");
    }

    #[test]
    fn completes_characters_cut_between_writes() {
        assert_eq!(decode(&[b"a\xe2", b"\x82", b"\xacb"]), ["a", "", "€b"]);
        assert_eq!(decode(&[b"\xf0", b"\x9f", b"\x98", b"\x80"]), ["", "", "", "😀"]);
    }

    #[test]
    fn a_broken_cut_character_becomes_one_replacement() {
        assert_eq!(decode(&[b"\xe2\x82", b"A"]), ["", "\u{fffd}A"]);
        assert_eq!(decode(&[b"\xe2", b"\xe2\x82\xac"]), ["", "\u{fffd}€"]);
    }

    #[test]
    fn pieces_of_one_write_are_one_stream() {
        let lossy = Lossy { pieces: &[b"x\xc3", b"\xa9y"], pending: Cell::new(Pending::default()) };
        assert_eq!(format!("{lossy}"), "xéy");
        assert_eq!(lossy.pending.get().len, 0);
    }
}
