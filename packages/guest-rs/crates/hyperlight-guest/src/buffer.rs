//! The shared input and output buffers and the frames in them.
//!
//! Each buffer carries one message at offset 0: a `u32` little-endian payload
//! length `N`, then `N` bytes (`docs/abi.md`, "Buffers and frames"). The host
//! only touches a buffer while the guest is stopped in an `out`, so guest code
//! owns both buffers whenever it runs; the accessors below only have to keep
//! Rust references into them short-lived and never overlapping, which is why
//! they hand out slices through closures.

use crate::abi::FRAME_HEADER_SIZE;

/// A shared buffer: `size` bytes at guest address `base`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SharedBuffer {
    base: usize,
    size: usize,
}

/// The frame in a buffer claims more bytes than the buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadFrame {
    /// The payload length the frame header claims.
    pub(crate) payload_size: usize,
    /// The buffer size in bytes.
    pub(crate) buffer_size: usize,
}

impl SharedBuffer {
    /// The buffer at `[base, base + size)`.
    ///
    /// # Safety
    /// The range must be mapped read/write for the guest, belong to nothing
    /// else in the guest, and stay so while the buffer is used.
    pub(crate) const unsafe fn new(base: usize, size: usize) -> Self {
        Self { base, size }
    }

    /// Size in bytes.
    pub(crate) const fn size(&self) -> usize {
        self.size
    }

    /// Bytes available for a frame's payload.
    pub(crate) const fn payload_capacity(&self) -> usize {
        self.size.saturating_sub(FRAME_HEADER_SIZE)
    }

    /// Runs `f` on the whole buffer, mutably.
    ///
    /// `f` must not exit to the host, and nothing else may access the buffer
    /// during `f` (every caller in this crate passes a plain encoder).
    pub(crate) fn with_bytes_mut<R>(&self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: the range is valid and ours (constructor contract) and no
        // other reference into it is live while `f` runs (see above).
        let bytes =
            unsafe { core::slice::from_raw_parts_mut(core::ptr::with_exposed_provenance_mut(self.base), self.size) };
        f(bytes)
    }

    /// Runs `f` on the payload of the frame at offset 0, after checking the
    /// header against the buffer size.
    pub(crate) fn with_frame<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R, BadFrame> {
        self.with_bytes_mut(|bytes| {
            let header = bytes.get(..FRAME_HEADER_SIZE).ok_or(BadFrame { payload_size: 0, buffer_size: self.size })?;
            let payload_size = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let payload = bytes
                .get(FRAME_HEADER_SIZE..FRAME_HEADER_SIZE.saturating_add(payload_size))
                .ok_or(BadFrame { payload_size, buffer_size: self.size })?;
            Ok(f(payload))
        })
    }

    /// Copies `bytes` into the payload area at `offset` (clipped to the
    /// buffer; the caller sizes its writes with `payload_capacity`).
    pub(crate) fn write_payload(&self, offset: usize, bytes: &[u8]) {
        self.with_bytes_mut(|buf| {
            let start = FRAME_HEADER_SIZE.saturating_add(offset).min(buf.len());
            let end = start.saturating_add(bytes.len()).min(buf.len());
            buf[start..end].copy_from_slice(&bytes[..end - start]);
        });
    }

    /// Writes the frame header for a `payload_size`-byte payload.
    pub(crate) fn set_payload_size(&self, payload_size: usize) {
        self.with_bytes_mut(|buf| {
            if let Some(header) = buf.get_mut(..FRAME_HEADER_SIZE) {
                header.copy_from_slice(&(payload_size as u32).to_le_bytes());
            }
        });
    }
}
