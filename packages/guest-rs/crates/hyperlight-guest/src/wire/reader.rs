//! A bounds-checked FlatBuffers reader.
//!
//! Every position is checked against the buffer before it is read, every
//! offset is added with overflow checks, and malformed input yields a
//! [`WireError`] naming what was wrong, never a panic or an out-of-bounds read.
//! Format reference: <https://flatbuffers.dev/internals/>.

/// A message that could not be decoded; the text says which part was bad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) &'static str);

/// Shorthand for decoding results.
pub(crate) type WireResult<T> = Result<T, WireError>;

fn bytes_at<const N: usize>(buf: &[u8], pos: usize) -> WireResult<[u8; N]> {
    let end = pos.checked_add(N).ok_or(WireError("offset overflows"))?;
    let bytes = buf.get(pos..end).ok_or(WireError("offset outside the message"))?;
    // The slice has exactly N bytes.
    Ok(bytes.try_into().unwrap_or([0; N]))
}

fn u16_at(buf: &[u8], pos: usize) -> WireResult<u16> {
    bytes_at(buf, pos).map(u16::from_le_bytes)
}

fn u32_at(buf: &[u8], pos: usize) -> WireResult<u32> {
    bytes_at(buf, pos).map(u32::from_le_bytes)
}

/// Follows the `uoffset_t` stored at `pos` (offsets are relative to their own
/// position and point forward).
fn follow(buf: &[u8], pos: usize) -> WireResult<usize> {
    let offset = u32_at(buf, pos)? as usize;
    let target = pos.checked_add(offset).ok_or(WireError("offset overflows"))?;
    if target >= buf.len() {
        return Err(WireError("offset outside the message"));
    }
    Ok(target)
}

/// A table inside a buffer, with its vtable already validated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_size: usize,
    table_size: usize,
}

impl<'a> Table<'a> {
    /// The root table of an (unprefixed) flatbuffer.
    pub(crate) fn root(buf: &'a [u8]) -> WireResult<Self> {
        Self::at(buf, follow(buf, 0)?)
    }

    fn at(buf: &'a [u8], pos: usize) -> WireResult<Self> {
        let soffset = i64::from(i32::from_le_bytes(bytes_at(buf, pos)?));
        // The vtable lives at `pos - soffset` (either side of the table).
        let vtable = i64::try_from(pos)
            .ok()
            .and_then(|p| p.checked_sub(soffset))
            .and_then(|v| usize::try_from(v).ok())
            .ok_or(WireError("vtable outside the message"))?;
        let vtable_size = usize::from(u16_at(buf, vtable)?);
        let table_size = usize::from(u16_at(buf, vtable + 2)?);
        if vtable_size < 4 || vtable_size % 2 != 0 {
            return Err(WireError("malformed vtable"));
        }
        if vtable.checked_add(vtable_size).is_none_or(|end| end > buf.len()) {
            return Err(WireError("vtable outside the message"));
        }
        if table_size < 4 || pos.checked_add(table_size).is_none_or(|end| end > buf.len()) {
            return Err(WireError("table outside the message"));
        }
        Ok(Self { buf, pos, vtable, vtable_size, table_size })
    }

    /// The position of field `index` (of `size` bytes), or `None` when the
    /// field is absent.
    fn field(&self, index: usize, size: usize) -> WireResult<Option<usize>> {
        let entry = 4 + 2 * index;
        if entry + 2 > self.vtable_size {
            return Ok(None);
        }
        let offset = usize::from(u16_at(self.buf, self.vtable + entry)?);
        if offset == 0 {
            return Ok(None);
        }
        if offset < 4 || offset + size > self.table_size {
            return Err(WireError("field outside its table"));
        }
        Ok(Some(self.pos + offset))
    }

    fn scalar<const N: usize>(&self, index: usize) -> WireResult<Option<[u8; N]>> {
        match self.field(index, N)? {
            Some(pos) => bytes_at(self.buf, pos).map(Some),
            None => Ok(None),
        }
    }

    /// A `ubyte`/`bool`/`ubyte`-enum field; absent fields read as `default`.
    pub(crate) fn u8(&self, index: usize, default: u8) -> WireResult<u8> {
        Ok(self.scalar::<1>(index)?.map_or(default, |b| b[0]))
    }

    /// A `uint` field; absent fields read as `default`.
    pub(crate) fn u32(&self, index: usize, default: u32) -> WireResult<u32> {
        Ok(self.scalar(index)?.map_or(default, u32::from_le_bytes))
    }

    /// A 4-byte field as raw little-endian bytes (`int`, `float`); absent
    /// fields read as zero, the schema default of every such field we have.
    pub(crate) fn bytes4(&self, index: usize) -> WireResult<[u8; 4]> {
        Ok(self.scalar(index)?.unwrap_or([0; 4]))
    }

    /// An 8-byte field as raw little-endian bytes (`long`, `ulong`,
    /// `double`); absent fields read as zero.
    pub(crate) fn bytes8(&self, index: usize) -> WireResult<[u8; 8]> {
        Ok(self.scalar(index)?.unwrap_or([0; 8]))
    }

    /// The position an offset field points at, if present.
    fn target(&self, index: usize) -> WireResult<Option<usize>> {
        match self.field(index, 4)? {
            Some(pos) => follow(self.buf, pos).map(Some),
            None => Ok(None),
        }
    }

    /// A sub-table field.
    pub(crate) fn table(&self, index: usize) -> WireResult<Option<Table<'a>>> {
        match self.target(index)? {
            Some(pos) => Table::at(self.buf, pos).map(Some),
            None => Ok(None),
        }
    }

    /// A `string` field (must be valid UTF-8).
    pub(crate) fn str(&self, index: usize) -> WireResult<Option<&'a str>> {
        match self.bytes(index)? {
            Some(bytes) => core::str::from_utf8(bytes).map(Some).map_err(|_| WireError("string is not UTF-8")),
            None => Ok(None),
        }
    }

    /// A `[ubyte]` field (also the bytes of a `string`).
    pub(crate) fn bytes(&self, index: usize) -> WireResult<Option<&'a [u8]>> {
        let Some(pos) = self.target(index)? else { return Ok(None) };
        let len = u32_at(self.buf, pos)? as usize;
        let start = pos + 4;
        let end = start.checked_add(len).ok_or(WireError("vector overflows"))?;
        self.buf.get(start..end).map(Some).ok_or(WireError("vector outside the message"))
    }

    /// A vector-of-tables field.
    pub(crate) fn tables(&self, index: usize) -> WireResult<Option<TableVector<'a>>> {
        let Some(pos) = self.target(index)? else { return Ok(None) };
        let len = u32_at(self.buf, pos)? as usize;
        let end = len.checked_mul(4).and_then(|n| n.checked_add(pos + 4)).ok_or(WireError("vector overflows"))?;
        if end > self.buf.len() {
            return Err(WireError("vector outside the message"));
        }
        Ok(Some(TableVector { buf: self.buf, pos, len }))
    }
}

/// A vector of tables whose element slots are known to be inside the buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TableVector<'a> {
    buf: &'a [u8],
    pos: usize,
    len: usize,
}

impl<'a> TableVector<'a> {
    /// The number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Element `i` (< `len()`).
    pub(crate) fn get(&self, i: usize) -> WireResult<Table<'a>> {
        if i >= self.len {
            return Err(WireError("vector index out of range"));
        }
        Table::at(self.buf, follow(self.buf, self.pos + 4 + 4 * i)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root table with one `uint` field of value 7 and one string "hi".
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&12u32.to_le_bytes()); // 0: root -> table at 12
        b.extend_from_slice(&8u16.to_le_bytes()); // 4: vtable size
        b.extend_from_slice(&12u16.to_le_bytes()); // 6: table size
        b.extend_from_slice(&4u16.to_le_bytes()); // 8: field 0 at +4
        b.extend_from_slice(&8u16.to_le_bytes()); // 10: field 1 at +8
        b.extend_from_slice(&8i32.to_le_bytes()); // 12: soffset -> vtable at 4
        b.extend_from_slice(&7u32.to_le_bytes()); // 16: field 0
        b.extend_from_slice(&4u32.to_le_bytes()); // 20: field 1 -> 24
        b.extend_from_slice(&2u32.to_le_bytes()); // 24: len
        b.extend_from_slice(b"hi\0");
        b
    }

    #[test]
    fn reads_fields() {
        let buf = sample();
        let t = Table::root(&buf).unwrap();
        assert_eq!(t.u32(0, 0).unwrap(), 7);
        assert_eq!(t.str(1).unwrap(), Some("hi"));
        assert_eq!(t.u32(5, 42).unwrap(), 42, "absent field reads as default");
        assert!(t.table(5).unwrap().is_none());
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let buf = sample();
        for len in 0..buf.len() - 1 {
            let cut = &buf[..len];
            let r = Table::root(cut).and_then(|t| Ok((t.u32(0, 0)?, t.str(1)?)));
            assert!(r.is_err(), "truncated to {len} bytes");
        }
    }

    #[test]
    fn rejects_hostile_offsets() {
        let mut buf = sample();
        buf[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Table::root(&buf).unwrap_err(), WireError("offset outside the message"));

        let mut buf = sample();
        buf[12..16].copy_from_slice(&i32::MIN.to_le_bytes()); // vtable far beyond
        assert!(Table::root(&buf).is_err());

        let mut buf = sample();
        buf[8..10].copy_from_slice(&200u16.to_le_bytes()); // field beyond table
        assert_eq!(Table::root(&buf).unwrap().u32(0, 0), Err(WireError("field outside its table")));

        let mut buf = sample();
        buf[24..28].copy_from_slice(&1000u32.to_le_bytes()); // string too long
        assert!(Table::root(&buf).unwrap().str(1).is_err());

        let mut buf = sample();
        buf[28] = 0xff; // invalid UTF-8
        assert_eq!(Table::root(&buf).unwrap().str(1), Err(WireError("string is not UTF-8")));
    }

    #[test]
    fn every_byte_flip_is_handled() {
        let base = sample();
        for i in 0..base.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut buf = base.clone();
                buf[i] = v;
                // Must not panic, whatever the outcome.
                let _ = Table::root(&buf).and_then(|t| Ok((t.u32(0, 0)?, t.str(1)?, t.tables(1)?)));
            }
        }
    }
}
