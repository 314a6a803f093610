//! Run memory: heap blocks the C API hands out that are freed together when
//! the guest function (or `hyperlight_main`) that made them returns, as
//! guest.h promises ("lives until the current run ends").
//!
//! Each block starts with a 32-byte header linking it into one circular
//! list, so freeing one early is O(1) and [`release_all`] frees the rest.
//!
//! ```text
//! [prev | next | size | 0] [payload, 16-aligned ...]
//!  ^ header                 ^ what hl_run_alloc returns
//! ```

use alloc::alloc::{Layout, alloc, dealloc};
use core::ffi::c_void;
use core::ptr::null_mut;

use hyperlight_guest::__private::abort_fmt;
use hyperlight_guest::abi::ABORT_CODE_OUT_OF_MEMORY;

/// One block's header.
#[repr(C, align(16))]
struct Header {
    prev: *mut Header,
    next: *mut Header,
    /// Payload bytes.
    size: usize,
}

/// The list head; `null` links mean "empty" until the first block.
struct List(core::cell::UnsafeCell<Header>);

// SAFETY: a guest is single-threaded and never pre-empted (see
// hyperlight-guest's cell.rs); nothing else touches the list.
unsafe impl Sync for List {}

static LIST: List = List(core::cell::UnsafeCell::new(Header { prev: null_mut(), next: null_mut(), size: 0 }));

/// Text kept when the heap cannot hold an error message (`hl_err` formats
/// into it); [`hl_run_free`] ignores it.
#[unsafe(no_mangle)]
pub(crate) static mut hl_rt_fallback_message: [u8; 256] = [0; 256];

fn head() -> *mut Header {
    let head = LIST.0.get();
    // SAFETY: single-threaded access to the static head; an empty list
    // points at itself.
    unsafe {
        if (*head).next.is_null() {
            (*head).next = head;
            (*head).prev = head;
        }
    }
    head
}

fn layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(size_of::<Header>())?, align_of::<Header>()).ok()
}

/// `size` bytes (16-aligned) of run memory, or null when the heap is full.
#[unsafe(no_mangle)]
pub extern "C" fn hl_rt_run_try_alloc(size: usize) -> *mut c_void {
    let Some(layout) = layout(size) else { return null_mut() };
    // SAFETY: the layout is never zero-sized (it holds the header).
    let block = unsafe { alloc(layout) }.cast::<Header>();
    if block.is_null() {
        return null_mut();
    }
    let head = head();
    // SAFETY: `block` is a fresh allocation big enough for a header; `head`
    // and its `prev` are live list nodes.
    unsafe {
        let last = (*head).prev;
        block.write(Header { prev: last, next: head, size });
        (*last).next = block;
        (*head).prev = block;
        block.add(1).cast()
    }
}

/// `hl_run_alloc`: as [`hl_rt_run_try_alloc`], but aborts with
/// `ABORT_CODE_OUT_OF_MEMORY` when the heap is full.
#[unsafe(no_mangle)]
pub extern "C" fn hl_run_alloc(size: usize) -> *mut c_void {
    let p = hl_rt_run_try_alloc(size);
    if p.is_null() {
        abort_fmt(
            ABORT_CODE_OUT_OF_MEMORY,
            format_args!("out of guest heap memory allocating {size} bytes of run memory"),
        );
    }
    p
}

/// `hl_run_free`: frees one block early (null and the fallback message are
/// ignored).
///
/// # Safety
/// `p` must come from `hl_run_alloc` (or be null, or the fallback message)
/// and not be freed already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hl_run_free(p: *mut c_void) {
    if p.is_null() || core::ptr::eq(p.cast::<u8>(), (&raw mut hl_rt_fallback_message).cast()) {
        return;
    }
    // SAFETY: per the caller, a header precedes `p` and the block is linked.
    unsafe {
        let block = p.cast::<Header>().sub(1);
        let Header { prev, next, size } = block.read();
        (*prev).next = next;
        (*next).prev = prev;
        if let Some(layout) = layout(size) {
            dealloc(block.cast(), layout);
        }
    }
}

/// Frees every block: the end of a guest function or of `hyperlight_main`.
pub(crate) fn release_all() {
    let head = head();
    // SAFETY: every node after the head is a live block of this list.
    unsafe {
        loop {
            let first = (*head).next;
            if first == head {
                break;
            }
            hl_run_free(first.add(1).cast());
        }
    }
}

/// A NUL-terminated copy of `text` in run memory (without the NUL in the
/// returned slice), or `None` when the heap is full.
pub(crate) fn copy_text(text: &[u8]) -> Option<&'static [u8]> {
    let p = hl_rt_run_try_alloc(text.len() + 1).cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` holds `len + 1` bytes of our own.
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len());
        p.add(text.len()).write(0);
        Some(core::slice::from_raw_parts(p, text.len()))
    }
}

/// A copy of `bytes` in run memory (a block of at least one byte), or
/// `None` when the heap is full.
pub(crate) fn copy_bytes(bytes: &[u8]) -> Option<&'static [u8]> {
    let p = hl_rt_run_try_alloc(bytes.len().max(1)).cast::<u8>();
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` holds at least `len` bytes of our own.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        Some(core::slice::from_raw_parts(p, bytes.len()))
    }
}
