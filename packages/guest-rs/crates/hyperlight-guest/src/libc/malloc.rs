//! C's `malloc` family over the runtime's heap: Rust and C share one heap.
//!
//! C's `free` gets no size, so every C block starts with a 16-byte header
//! right before the payload: the payload's capacity (its size rounded up to
//! 16) and a check word. The check word mixes the payload's address and
//! capacity, with the block's alignment in its low byte, so `free` and
//! `realloc` recognise pointers `malloc` did not return (or returned and
//! then took back: freeing clears the word) and abort instead of corrupting
//! the heap. A pointer outside the heap is rejected before anything is read.
//!
//! A block aligned to more than 16 bytes puts its payload `align` bytes into
//! the heap block (the header sits in the padding). Failures return null
//! with `errno` `ENOMEM` (`EINVAL` for a bad alignment), as C expects.
//! `realloc(p, 0)` keeps a zero-byte block, as musl's does; `realloc` resizes
//! in place when the heap can.

use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::ptr;

use super::linux::errno::ENOMEM;
use crate::abi::ABORT_CODE_PANIC;
use crate::entry;
use crate::exit::abort_fmt;
use crate::heap::{ALLOCATOR, GRANULE};

/// Bytes of the header before every payload.
const HEADER: usize = 16;

/// `EINVAL`, as C functions return it.
const EINVAL: c_int = 22;

unsafe extern "C" {
    /// The C library's `errno` (musl's; the host libc's in unit tests).
    fn __errno_location() -> *mut c_int;
}

/// Sets C's `errno`.
fn set_errno(value: c_int) {
    // SAFETY: the C library returns the address of the thread's errno.
    unsafe { __errno_location().write(value) };
}

/// The header before a payload.
#[repr(C)]
struct Header {
    /// Usable bytes at the payload (a multiple of 16).
    capacity: usize,
    /// [`check_word`] of the block, or 0 once freed.
    check: usize,
}

/// The check word of a live block: a mix of its payload address and
/// capacity, with log2 of its alignment in the low byte.
fn check_word(payload: usize, capacity: usize, align_log2: u32) -> usize {
    let mixed = (payload ^ capacity.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (mixed & !0xff) | align_log2 as usize
}

/// A live C block, as its header describes it.
#[derive(Clone, Copy)]
struct Block {
    payload: usize,
    capacity: usize,
    /// The heap alignment, also the payload's offset in the heap block.
    align: usize,
}

impl Block {
    /// The heap block's start.
    fn start(self) -> *mut u8 {
        ptr::with_exposed_provenance_mut(self.payload - self.align)
    }

    /// The heap block's layout.
    fn layout(self) -> Layout {
        // Checked when the block was made (and again when its header was read).
        Layout::from_size_align(self.capacity + self.align, self.align).unwrap_or(Layout::new::<u8>())
    }

    fn header(self) -> *mut Header {
        ptr::with_exposed_provenance_mut(self.payload - HEADER)
    }

    /// Writes the header of a live block.
    ///
    /// # Safety
    /// The 16 bytes before the payload must belong to the heap block.
    unsafe fn seal(self) {
        let check = check_word(self.payload, self.capacity, self.align.trailing_zeros());
        // SAFETY: per the caller.
        unsafe { self.header().write(Header { capacity: self.capacity, check }) };
    }

    /// Clears the check word (or restores it with [`Block::seal`]).
    ///
    /// # Safety
    /// As [`Block::seal`].
    unsafe fn unseal(self) {
        // SAFETY: per the caller.
        unsafe { (*self.header()).check = 0 };
    }

    /// The block whose payload is at `payload`, if `malloc` returned it and
    /// it was not freed since; aborts the run otherwise (`what` names the
    /// C function for the message).
    fn of(payload: usize, what: &str) -> Self {
        Self::find(payload).unwrap_or_else(|| {
            abort_fmt(ABORT_CODE_PANIC, format_args!("{what}(): invalid pointer or double free ({payload:#x})"))
        })
    }

    fn find(payload: usize) -> Option<Self> {
        let env = entry::env()?;
        let (start, end) = (env.heap_gva, env.heap_gva.checked_add(env.heap_size)?);
        if payload % GRANULE != 0 || payload < start.checked_add(HEADER)? || payload > end {
            return None;
        }
        // SAFETY: the header lies inside the heap arena, which is mapped.
        let Header { capacity, check } = unsafe { ptr::with_exposed_provenance::<Header>(payload - HEADER).read() };
        let align_log2 = (check & 0xff) as u32;
        if !(GRANULE.trailing_zeros()..usize::BITS - 1).contains(&align_log2) {
            return None;
        }
        let align = 1usize << align_log2;
        let fits = payload - start >= align && capacity <= end - payload;
        (fits && capacity % GRANULE == 0 && check == check_word(payload, capacity, align_log2)).then_some(Self {
            payload,
            capacity,
            align,
        })
    }
}

/// The capacity for a request of `size` bytes and the heap layout of such a
/// block at `align` (a power of two of at least 16).
fn plan(size: usize, align: usize) -> Option<(usize, Layout)> {
    let capacity = size.checked_add(GRANULE - 1)? & !(GRANULE - 1);
    Some((capacity, Layout::from_size_align(capacity.checked_add(align)?, align).ok()?))
}

/// Allocates `size` bytes at `align` (a power of two); null and `ENOMEM`
/// when the heap cannot.
fn allocate(size: usize, align: usize) -> *mut c_void {
    let align = align.max(GRANULE);
    let Some((capacity, layout)) = plan(size, align) else {
        set_errno(ENOMEM);
        return ptr::null_mut();
    };
    let start = ALLOCATOR.alloc_unrecorded(layout);
    if start.is_null() {
        set_errno(ENOMEM);
        return ptr::null_mut();
    }
    let block = Block { payload: start as usize + align, capacity, align };
    // SAFETY: the header is the last 16 bytes of the `align` bytes of padding.
    unsafe { block.seal() };
    let payload: *mut c_void = ptr::with_exposed_provenance_mut(block.payload);
    #[cfg(feature = "trace")]
    crate::tracing::memory::on_alloc(payload.cast(), size);
    payload
}

/// C `malloc`.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn malloc(size: usize) -> *mut c_void {
    allocate(size, GRANULE)
}

/// C `calloc`: zeroed; null and `ENOMEM` when `count * size` overflows.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    let Some(total) = count.checked_mul(size) else {
        set_errno(ENOMEM);
        return ptr::null_mut();
    };
    let p = malloc(total);
    if !p.is_null() {
        // SAFETY: the block holds at least `total` bytes.
        unsafe { p.cast::<u8>().write_bytes(0, total) };
    }
    p
}

/// Frees the block at `p` (nothing for null); aborts the run when `malloc`
/// did not return `p` or it was freed already.
///
/// # Safety
/// `p` must not be used after this call.
pub(super) unsafe fn release(p: *mut c_void) {
    if p.is_null() {
        return;
    }
    let block = Block::of(p as usize, "free");
    // SAFETY: a live block found by its header; cleared so a second free is caught.
    unsafe {
        block.unseal();
        ALLOCATOR.dealloc_unrecorded(block.start(), block.layout());
    }
    #[cfg(feature = "trace")]
    crate::tracing::memory::on_free(p.cast(), block.capacity);
}

/// Resizes the block at `p` (see [`realloc`]); aborts the run as [`release`].
///
/// # Safety
/// `p` must not be used after a successful call (use the result).
pub(super) unsafe fn resize(p: *mut c_void, size: usize) -> *mut c_void {
    if p.is_null() {
        return malloc(size);
    }
    let old = Block::of(p as usize, "realloc");
    let Some((capacity, layout)) = plan(size, old.align) else {
        set_errno(ENOMEM);
        return ptr::null_mut();
    };
    // SAFETY: a live block; unsealed while the heap may move or free it, so
    // the copy it leaves behind is not a valid block.
    unsafe { old.unseal() };
    // SAFETY: `old` is a live heap block with that layout; the new size is non-zero.
    let start = unsafe { ALLOCATOR.realloc_unrecorded(old.start(), old.layout(), layout.size()) };
    if start.is_null() {
        // SAFETY: the heap left the block where it was.
        unsafe { old.seal() };
        set_errno(ENOMEM);
        return ptr::null_mut();
    }
    let new = Block { payload: start as usize + old.align, capacity, align: old.align };
    // SAFETY: as in `allocate`: same alignment, same padding.
    unsafe { new.seal() };
    let payload: *mut c_void = ptr::with_exposed_provenance_mut(new.payload);
    #[cfg(feature = "trace")]
    {
        crate::tracing::memory::on_free(p.cast(), old.capacity);
        crate::tracing::memory::on_alloc(payload.cast(), size);
    }
    payload
}

/// The usable bytes at `p` (0 for null); aborts the run as [`release`].
pub(super) fn usable_size(p: *mut c_void) -> usize {
    if p.is_null() { 0 } else { Block::of(p as usize, "malloc_usable_size").capacity }
}

/// C `free`: null is a no-op; a pointer `malloc` did not return, or one
/// already freed, aborts the run.
///
/// # Safety
/// `p` must not be used after this call.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn free(p: *mut c_void) {
    // SAFETY: forwarded.
    unsafe { release(p) }
}

/// C `realloc`: null `p` allocates; otherwise resizes in place when the heap
/// can, else moves the block. On failure `p` stays valid and null is returned.
///
/// # Safety
/// `p` must not be used after a successful call (use the result).
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { resize(p, size) }
}

/// C11 `aligned_alloc`: `align` must be a power of two (else null, `EINVAL`).
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    if !align.is_power_of_two() {
        set_errno(EINVAL);
        return ptr::null_mut();
    }
    allocate(size, align)
}

/// The obsolete `memalign`, as [`aligned_alloc`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    aligned_alloc(align, size)
}

/// POSIX `posix_memalign`: returns `EINVAL` unless `align` is a power of two
/// and a multiple of `sizeof(void *)`, `ENOMEM` when the heap cannot; sets
/// `*out` only on success and never touches `errno`.
///
/// # Safety
/// `out` must be valid for writing a pointer.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if !align.is_power_of_two() || align < size_of::<*mut c_void>() {
        return EINVAL;
    }
    // SAFETY: the C library's errno.
    let saved = unsafe { __errno_location().read() };
    let p = allocate(size, align);
    set_errno(saved);
    if p.is_null() {
        return ENOMEM;
    }
    // SAFETY: per the caller.
    unsafe { out.write(p) };
    0
}

/// `malloc_usable_size`: the bytes usable at `p` (0 for null).
///
/// # Safety
/// `p` must be null or a live block.
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn malloc_usable_size(p: *mut c_void) -> usize {
    usable_size(p)
}

/// musl's internal name for [`malloc`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn __libc_malloc(size: usize) -> *mut c_void {
    malloc(size)
}

/// musl's internal name for [`malloc`] (the implementation behind it).
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn __libc_malloc_impl(size: usize) -> *mut c_void {
    malloc(size)
}

/// musl's internal name for [`calloc`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut c_void {
    calloc(count, size)
}

/// musl's internal name for [`realloc`].
///
/// # Safety
/// As [`realloc`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { resize(p, size) }
}

/// musl's internal name for [`free`].
///
/// # Safety
/// As [`free`].
#[cfg_attr(not(test), unsafe(no_mangle))]
pub unsafe extern "C" fn __libc_free(p: *mut c_void) {
    // SAFETY: forwarded.
    unsafe { release(p) }
}
