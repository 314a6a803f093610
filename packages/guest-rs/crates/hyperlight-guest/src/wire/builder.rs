//! A front-to-back FlatBuffers builder that writes a size-prefixed frame
//! straight into a fixed buffer (normally the shared output buffer).
//!
//! The official builders work back to front; writing front to back instead
//! lets us fill guest memory in place without a scratch allocation. Each
//! object is written before the objects it points at, and its offset fields
//! are patched once their targets exist, so every `uoffset` points forward
//! as the format requires. Vtables are written just before their table
//! (the `soffset` is signed, so that is allowed).
//!
//! Positions are relative to the frame start (the size prefix). The frame
//! starts on a page boundary in guest memory, so alignment relative to it is
//! real alignment: every scalar sits at a multiple of its size.
//!
//! When the buffer is too small the builder keeps counting without writing,
//! so [`Builder::finish`] can report exactly how many bytes were needed.

use core::fmt::{self, Write};

/// Bytes before the first object: the `u32` size prefix and the root `uoffset`.
const HEADER_SIZE: usize = 8;

/// Most fields a table of our schema has (`LogRecord` has 5).
const MAX_FIELDS: usize = 5;

/// One field of a table about to be written.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Field {
    /// `ubyte`, `bool` or a `ubyte` enum / union type tag
    U8(u8),
    /// Any 4-byte scalar (`int`, `uint`, `float`) as little-endian bytes
    B4([u8; 4]),
    /// Any 8-byte scalar (`long`, `ulong`, `double`) as little-endian bytes
    B8([u8; 8]),
    /// An offset to a string, vector or table, filled in by [`Builder::set`]
    Offset,
}

impl Field {
    const fn size(self) -> usize {
        match self {
            Self::U8(_) => 1,
            Self::B4(_) | Self::Offset => 4,
            Self::B8(_) => 8,
        }
    }
}

/// A written table: where it is and where each of its fields went.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableRef {
    pos: usize,
    field_offsets: [u16; MAX_FIELDS],
}

impl TableRef {
    /// The table's position in the frame.
    pub(crate) const fn pos(self) -> usize {
        self.pos
    }
}

/// The frame did not fit: `needed` bytes were required.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooLarge {
    pub(crate) needed: usize,
}

/// Appends formatted text to the string being written by `string_fmt`;
/// past `max_len` it only counts.
struct StringWriter<'b, 'a> {
    builder: &'b mut Builder<'a>,
    kept: usize,
    total: usize,
    max_len: usize,
}

impl fmt::Write for StringWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.kept == self.total {
            let mut cut = s.len().min(self.max_len - self.kept);
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            self.builder.push(&s.as_bytes()[..cut]);
            self.kept += cut;
        }
        self.total += s.len();
        Ok(())
    }
}

/// Writes one size-prefixed flatbuffer frame into `buf`.
pub(crate) struct Builder<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Builder<'a> {
    /// Starts a frame at the beginning of `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: HEADER_SIZE }
    }

    /// Writes `bytes` at `pos` if they fit (the caller keeps counting either way).
    fn write_at(&mut self, pos: usize, bytes: &[u8]) {
        if let Some(dst) = self.buf.get_mut(pos..pos + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.write_at(self.pos, bytes);
        self.pos += bytes.len();
    }

    /// Writes `n` zero bytes. Up to 8 (padding, placeholders) are one 8-byte
    /// store where it fits: nothing has been written past `pos` yet, and a
    /// guest's `memset` is a `rep stosb`, slow to start for a few bytes.
    fn push_zeros(&mut self, n: usize) {
        let end = self.pos + n;
        if let Some(word) = self.buf.get_mut(self.pos..self.pos + 8).filter(|_| n <= 8) {
            word.copy_from_slice(&[0; 8]);
        } else if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.fill(0);
        }
        self.pos = end;
    }

    /// Pads with zeros until `pos % align == rem`.
    fn align(&mut self, align: usize, rem: usize) {
        let pad = (rem + align - self.pos % align) % align;
        self.push_zeros(pad);
    }

    /// Writes a table (and its vtable). Every field is stored, even one equal
    /// to its schema default, so values such as `-0.0` survive unchanged.
    pub(crate) fn table(&mut self, fields: &[Field]) -> TableRef {
        debug_assert!(fields.len() <= MAX_FIELDS);
        // Largest fields first: after the 4-byte soffset, 8-byte fields are
        // then 8-aligned when the table starts at 4 mod 8, and everything
        // after them stays naturally aligned.
        let mut field_offsets = [0u16; MAX_FIELDS];
        let mut table_size = 4;
        for size in [8, 4, 1] {
            for (i, field) in fields.iter().enumerate() {
                if field.size() == size {
                    field_offsets[i] = table_size as u16;
                    table_size += size;
                }
            }
        }

        self.align(2, 0);
        let vtable_pos = self.pos;
        self.push(&((4 + 2 * fields.len()) as u16).to_le_bytes());
        self.push(&(table_size as u16).to_le_bytes());
        for offset in &field_offsets[..fields.len()] {
            self.push(&offset.to_le_bytes());
        }

        let has_8_byte_field = fields.iter().any(|f| f.size() == 8);
        if has_8_byte_field {
            self.align(8, 4)
        } else {
            self.align(4, 0)
        }
        let pos = self.pos;
        // soffset: the vtable is `soffset` bytes before the table.
        self.push(&((pos - vtable_pos) as i32).to_le_bytes());
        // The fields fill the rest of the table without gaps.
        self.pos += table_size - 4;
        for (i, field) in fields.iter().enumerate() {
            let at = pos + usize::from(field_offsets[i]);
            match *field {
                Field::U8(v) => self.write_at(at, &[v]),
                Field::B4(b) => self.write_at(at, &b),
                Field::B8(b) => self.write_at(at, &b),
                Field::Offset => self.write_at(at, &[0; 4]), // patched by `set`
            }
        }
        TableRef { pos, field_offsets }
    }

    /// Points offset field `index` of `table` at `target` (written after it).
    pub(crate) fn set(&mut self, table: TableRef, index: usize, target: usize) {
        let at = table.pos + usize::from(table.field_offsets[index]);
        self.set_slot(at, target);
    }

    /// Stores at `slot` the forward offset to `target`.
    pub(crate) fn set_slot(&mut self, slot: usize, target: usize) {
        debug_assert!(target > slot);
        self.write_at(slot, &((target - slot) as u32).to_le_bytes());
    }

    /// Writes a string (length, UTF-8 bytes, NUL) and returns its position.
    pub(crate) fn string(&mut self, s: &str) -> usize {
        let pos = self.byte_vector(s.as_bytes());
        self.push(&[0]);
        pos
    }

    /// Writes a string formatted from `args`, keeping at most `max_len`
    /// bytes (cut at a character boundary). Returns its position, the length
    /// kept and the length of the whole text. Formatting streams into the
    /// buffer: nothing is allocated.
    pub(crate) fn string_fmt(&mut self, args: fmt::Arguments<'_>, max_len: usize) -> (usize, usize, usize) {
        self.align(4, 0);
        let pos = self.pos;
        self.push_zeros(4); // the length, patched below
        let mut writer = StringWriter { builder: self, kept: 0, total: 0, max_len };
        // A failing Display impl only shortens the text.
        let _ = writer.write_fmt(args);
        let (kept, total) = (writer.kept, writer.total);
        self.write_at(pos, &(kept as u32).to_le_bytes());
        self.push(&[0]);
        (pos, kept, total)
    }

    /// Writes a `[ubyte]` vector and returns its position.
    pub(crate) fn byte_vector(&mut self, bytes: &[u8]) -> usize {
        self.align(4, 0);
        let pos = self.pos;
        self.push(&(bytes.len() as u32).to_le_bytes());
        self.push(bytes);
        pos
    }

    /// Writes a vector of `len` offsets, all to be filled with [`set_slot`]
    /// at [`Self::slot`], and returns its position.
    ///
    /// [`set_slot`]: Self::set_slot
    pub(crate) fn offset_vector(&mut self, len: usize) -> usize {
        self.align(4, 0);
        let pos = self.pos;
        self.push(&(len as u32).to_le_bytes());
        self.push_zeros(4 * len);
        pos
    }

    /// The position of element `i` of the offset vector at `vector`.
    pub(crate) const fn slot(vector: usize, i: usize) -> usize {
        vector + 4 + 4 * i
    }

    /// The position the next object will be written at (before alignment).
    #[cfg(test)]
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Sets the root table and the size prefix; returns the frame length
    /// (prefix included) or how many bytes it would have needed.
    pub(crate) fn finish(mut self, root: TableRef) -> Result<usize, TooLarge> {
        self.write_at(4, &((root.pos - 4) as u32).to_le_bytes());
        let frame_size = self.pos;
        if frame_size > self.buf.len() || frame_size - 4 > u32::MAX as usize {
            return Err(TooLarge { needed: frame_size });
        }
        self.write_at(0, &((frame_size - 4) as u32).to_le_bytes());
        Ok(frame_size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::reader::Table;

    #[test]
    fn tables_are_aligned_and_readable() {
        let mut buf = [0u8; 128];
        let mut b = Builder::new(&mut buf);
        let root = b.table(&[
            Field::U8(3),
            Field::B8(u64::MAX.to_le_bytes()),
            Field::Offset,
            Field::B4((-1i32).to_le_bytes()),
        ]);
        let s = b.string("héllo");
        b.set(root, 2, s);
        let len = b.finish(root).unwrap();
        assert_eq!(u32::from_le_bytes(buf[0..4].try_into().unwrap()) as usize, len - 4);
        assert_eq!((root.pos + usize::from(root.field_offsets[1])) % 8, 0, "8-byte field is 8-aligned");

        let t = Table::root(&buf[4..len]).unwrap();
        assert_eq!(t.u8(0, 0).unwrap(), 3);
        assert_eq!(t.bytes8(1).unwrap(), u64::MAX.to_le_bytes());
        assert_eq!(t.str(2).unwrap(), Some("héllo"));
        assert_eq!(t.bytes4(3).unwrap(), (-1i32).to_le_bytes());
    }

    #[test]
    fn too_small_buffer_reports_the_needed_size() {
        let mut big = [0u8; 256];
        let needed = {
            let mut b = Builder::new(&mut big);
            let root = b.table(&[Field::Offset]);
            let v = b.byte_vector(&[7; 100]);
            b.set(root, 0, v);
            b.finish(root).unwrap()
        };
        let mut small = [0u8; 64];
        let mut b = Builder::new(&mut small);
        let root = b.table(&[Field::Offset]);
        let v = b.byte_vector(&[7; 100]);
        b.set(root, 0, v);
        assert_eq!(b.finish(root), Err(TooLarge { needed }));
    }

    #[test]
    fn formatted_strings_stream_and_truncate() {
        let mut buf = [0u8; 64];
        let mut b = Builder::new(&mut buf);
        let root = b.table(&[Field::Offset, Field::Offset]);
        let (s, kept, total) = b.string_fmt(format_args!("{}-{}", "ab", 42), usize::MAX);
        assert_eq!((kept, total), (5, 5));
        b.set(root, 0, s);
        let (t, kept, total) = b.string_fmt(format_args!("{}{}", "héllo", "!"), 2);
        assert_eq!((kept, total), (1, 7), "cut before the two-byte é, nothing after the cut");
        b.set(root, 1, t);
        let end = b.finish(root).unwrap();
        let table = Table::root(&buf[4..end]).unwrap();
        assert_eq!(table.str(0).unwrap(), Some("ab-42"));
        assert_eq!(table.str(1).unwrap(), Some("h"));
    }

    #[test]
    fn empty_tables_and_vectors() {
        let mut buf = [0u8; 64];
        let mut b = Builder::new(&mut buf);
        let root = b.table(&[Field::Offset]);
        let v = b.offset_vector(0);
        b.set(root, 0, v);
        let inner_pos = b.position();
        assert!(inner_pos > v);
        let len = b.finish(root).unwrap();
        let t = Table::root(&buf[4..len]).unwrap();
        assert_eq!(t.tables(0).unwrap().unwrap().len(), 0);
    }
}
