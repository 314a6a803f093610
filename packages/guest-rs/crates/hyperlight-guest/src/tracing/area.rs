//! Appending finished records to the trace area.
//!
//! The host drains the area on every exit and sets `used` and `lost` to 0,
//! so `used` is read fresh before each append. A record that does not fit
//! costs one `TRACE_FLUSH` exit and a retry; one that still does not fit (or
//! could never fit) is counted in `lost`. Nothing here allocates, so the
//! allocator can record through it.

use crate::abi::{PORT_TRACE_FLUSH, TRACE_HEADER_SIZE, TRACE_OFFSET_LOST, TRACE_OFFSET_USED, TRACE_RECORD_ALIGNMENT};
use crate::exit::out32;

use super::run;

/// `n` rounded up to the record alignment.
const fn padded(n: usize) -> usize {
    (n + TRACE_RECORD_ALIGNMENT - 1) & !(TRACE_RECORD_ALIGNMENT - 1)
}

/// The u32 header field at `offset` of the area at `base`.
fn header_u32(base: usize, offset: usize) -> *mut u32 {
    core::ptr::with_exposed_provenance_mut(base + offset)
}

/// Appends `record` (a whole record, its size in its header); `false` when
/// it was dropped and counted in `lost`, or when there is no area.
pub(crate) fn append(record: &[u8]) -> bool {
    let Some((base, size)) = run::area() else { return false };
    let capacity = size - TRACE_HEADER_SIZE;
    let needed = padded(record.len());
    if needed > capacity {
        count_lost(base);
        return false;
    }
    let mut flushed = false;
    loop {
        // SAFETY: the area is 8-aligned, at least a header long and mapped
        // read/write for the guest (checked at entry); the host writes it
        // only while the guest is stopped in an `out`.
        let used = unsafe { header_u32(base, TRACE_OFFSET_USED).read_volatile() } as usize;
        // The guest writes only multiples of 8; anything else was scribbled.
        let start = padded(used);
        if start <= capacity - needed {
            let at = base + TRACE_HEADER_SIZE + start;
            // SAFETY: [at, at + needed) lies inside the records region, which
            // no Rust reference covers.
            unsafe {
                let dest = core::ptr::with_exposed_provenance_mut::<u8>(at);
                core::ptr::copy_nonoverlapping(record.as_ptr(), dest, record.len());
                dest.add(record.len()).write_bytes(0, needed - record.len());
                header_u32(base, TRACE_OFFSET_USED).write_volatile((start + needed) as u32);
            }
            return true;
        }
        if flushed {
            count_lost(base);
            return false;
        }
        // The host drains the area and resumes us.
        out32(PORT_TRACE_FLUSH, 0);
        flushed = true;
    }
}

/// Counts a dropped record in the header's `lost`.
pub(crate) fn count_lost(base: usize) {
    let lost = header_u32(base, TRACE_OFFSET_LOST);
    // SAFETY: as in `append`.
    unsafe { lost.write_volatile(lost.read_volatile().saturating_add(1)) };
}

/// Counts a dropped record in the current run's area, if there is one.
pub(crate) fn lost() {
    if let Some((base, _)) = run::area() {
        count_lost(base);
    }
}
