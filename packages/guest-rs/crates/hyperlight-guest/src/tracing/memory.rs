//! Memory profiling: an `ALLOC` or `FREE` record for every block the
//! global allocator hands out or takes back, with the stack that asked for
//! it, when the run has `TRACE_FLAG_MEMORY`.
//!
//! Stacks come from the frame-pointer chain: in a function built with frame
//! pointers, `[rbp]` holds the caller's `rbp` and `[rbp + 8]` the return
//! address. The walk reads only inside the guest stack from the PEB, only
//! aligned frames, and only upwards, so a chain broken by code without frame
//! pointers (the precompiled `core`/`alloc`, or a guest built without them)
//! ends the stack early instead of faulting. Nothing here allocates.

use crate::abi::{TRACE_KIND_ALLOC, TRACE_KIND_FREE, TRACE_MAX_FRAMES};

use super::record::RecordBuf;
use super::{area, run, span};

/// Records an allocation of `size` bytes at `address`.
#[inline(always)]
pub(crate) fn on_alloc(address: *mut u8, size: usize) {
    if run::memory_profile() && !address.is_null() {
        record(TRACE_KIND_ALLOC as u8, address as usize, size);
    }
}

/// Records that the `size`-byte block at `address` was freed.
#[inline(always)]
pub(crate) fn on_free(address: *mut u8, size: usize) {
    if run::memory_profile() {
        record(TRACE_KIND_FREE as u8, address as usize, size);
    }
}

#[inline(never)]
fn record(kind: u8, address: usize, size: usize) {
    let mut frames = [0u64; TRACE_MAX_FRAMES];
    let (low, high) = run::stack();
    let count = walk_from(frame_pointer(), low, high, &mut frames);
    let mut record = RecordBuf::new(kind, 0, span::current());
    record.put_u64(address as u64);
    record.put_u64(size as u64);
    record.put_u32(count as u32);
    record.put_u32(0);
    for &frame in &frames[..count] {
        record.put_u64(frame);
    }
    area::append(record.finish());
}

/// This function's caller's frame: the `rbp` it was entered with. Inlined,
/// so `rbp` is the frame of the function it is written in.
#[inline(always)]
fn frame_pointer() -> usize {
    let rbp: usize;
    // SAFETY: reads a register; touches no memory.
    unsafe { core::arch::asm!("mov {}, rbp", out(reg) rbp, options(nomem, nostack, preserves_flags)) };
    rbp
}

/// Walks the frame-pointer chain from frame `fp` inside the stack
/// `[low, high)`, writing return addresses (innermost first) to `frames`;
/// returns how many it wrote. Stops at a null, misaligned or out-of-stack
/// frame, a frame that does not move up the stack, a null return address,
/// or when `frames` is full.
pub(crate) fn walk_from(mut fp: usize, low: usize, high: usize, frames: &mut [u64]) -> usize {
    let mut count = 0;
    while count < frames.len() {
        if fp == 0 || fp % 8 != 0 || fp < low || fp.checked_add(16).is_none_or(|end| end > high) {
            break;
        }
        // SAFETY: [fp, fp + 16) lies inside the guest stack, which is mapped
        // readable for its whole size (stack_gva, stack_size in the PEB).
        let (next, ret) = unsafe {
            let frame = core::ptr::with_exposed_provenance::<usize>(fp);
            (frame.read_volatile(), frame.add(1).read_volatile())
        };
        if ret == 0 {
            break;
        }
        frames[count] = ret as u64;
        count += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    count
}
