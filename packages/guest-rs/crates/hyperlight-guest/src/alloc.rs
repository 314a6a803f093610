//! The guest heap: a first-fit allocator over the PEB's heap arena.
//!
//! Free memory is a singly linked list of blocks sorted by address, with the
//! list node stored inside each free block. Allocation takes the first block
//! that can hold the request at its alignment and splits off what is left;
//! freeing inserts the block at its place in the list and merges it with free
//! neighbours, so the arena never fragments into adjacent free pieces.
//!
//! Blocks carry no header: Rust's allocator API hands the layout back on
//! `dealloc`/`realloc`, so the block size is always known. Every block
//! address and size is a multiple of [`GRANULE`], which is also the size of a
//! free-list node, so any leftover piece can hold a node.
//!
//! When a request fails the heap records its layout. Rust then calls
//! `handle_alloc_error`, whose default panics with "memory allocation of N
//! bytes failed"; the panic handler (`panic.rs`) recognises that panic by the
//! recorded size and reports `ABORT_CODE_OUT_OF_MEMORY` instead.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr;

use crate::cell::GlobalCell;

/// Allocation granularity and minimum block size in bytes: room for a
/// [`FreeBlock`], and the alignment `malloc` would give.
pub(crate) const GRANULE: usize = 16;

/// The list node at the start of every free block.
#[repr(C)]
struct FreeBlock {
    /// Size of this free block in bytes (a multiple of `GRANULE`).
    size: usize,
    /// The next free block at a higher address, or null.
    next: *mut FreeBlock,
}

/// A request the heap could not satisfy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FailedRequest {
    /// Requested size in bytes.
    pub(crate) size: usize,
    /// Requested alignment in bytes.
    pub(crate) align: usize,
}

/// Occupancy figures for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeapStats {
    /// Usable arena size in bytes.
    pub(crate) size: usize,
    /// Free bytes in total.
    pub(crate) free: usize,
    /// The largest free block in bytes.
    pub(crate) largest_free: usize,
}

/// A first-fit heap over one arena.
pub(crate) struct Heap {
    start: usize,
    end: usize,
    /// Address-ordered free list.
    free: *mut FreeBlock,
    /// The most recent request that failed.
    last_failure: Option<FailedRequest>,
}

/// Rounds `n` up to a multiple of `align` (a power of two); `None` on overflow.
const fn align_up(n: usize, align: usize) -> Option<usize> {
    match n.checked_add(align - 1) {
        Some(v) => Some(v & !(align - 1)),
        None => None,
    }
}

/// The block size a layout occupies.
fn block_size(size: usize) -> Option<usize> {
    align_up(size.max(1), GRANULE)
}

impl Heap {
    /// A heap with no memory: every allocation fails until [`Heap::init`].
    pub(crate) const fn empty() -> Self {
        Self { start: 0, end: 0, free: ptr::null_mut(), last_failure: None }
    }

    /// Takes over `size` bytes at `base` as one free block (trimmed to
    /// [`GRANULE`] boundaries).
    ///
    /// # Safety
    /// The memory must be valid for reads and writes, unused by anything else,
    /// and stay so for as long as the heap is used.
    pub(crate) unsafe fn init(&mut self, base: usize, size: usize) {
        *self = Self::empty();
        let Some(start) = align_up(base, GRANULE) else { return };
        let end = base.saturating_add(size) & !(GRANULE - 1);
        if end <= start {
            return;
        }
        self.start = start;
        self.end = end;
        // SAFETY: [start, end) is inside the caller's arena and aligned for a node.
        unsafe { self.free = Self::make_block(start, end - start, ptr::null_mut()) };
    }

    /// Writes a free-list node at `addr` and returns it.
    ///
    /// # Safety
    /// `addr` must be a `GRANULE`-aligned free address inside the arena.
    unsafe fn make_block(addr: usize, size: usize, next: *mut FreeBlock) -> *mut FreeBlock {
        let block = ptr::with_exposed_provenance_mut::<FreeBlock>(addr);
        // SAFETY: per the caller, the node's 16 bytes are ours to write.
        unsafe { block.write(FreeBlock { size, next }) };
        block
    }

    /// The last request that failed, if any.
    pub(crate) fn last_failure(&self) -> Option<FailedRequest> {
        self.last_failure
    }

    /// Current occupancy.
    pub(crate) fn stats(&self) -> HeapStats {
        let (mut free, mut largest_free) = (0, 0);
        let mut cur = self.free;
        while !cur.is_null() {
            // SAFETY: every list node is a valid FreeBlock inside the arena.
            let block = unsafe { &*cur };
            free += block.size;
            largest_free = largest_free.max(block.size);
            cur = block.next;
        }
        HeapStats { size: self.end - self.start, free, largest_free }
    }

    fn fail(&mut self, layout: Layout) -> *mut u8 {
        self.last_failure = Some(FailedRequest { size: layout.size(), align: layout.align() });
        ptr::null_mut()
    }

    /// Allocates a block for `layout`, or returns null (and records the
    /// request) when no free block can hold it.
    pub(crate) fn alloc(&mut self, layout: Layout) -> *mut u8 {
        let Some(size) = block_size(layout.size()) else { return self.fail(layout) };
        let align = layout.align().max(GRANULE);
        let mut prev: *mut FreeBlock = ptr::null_mut();
        let mut cur = self.free;
        while !cur.is_null() {
            // SAFETY: list nodes are valid FreeBlocks inside the arena.
            let FreeBlock { size: block_size, next } = unsafe { cur.read() };
            let block = cur as usize;
            if let Some(start) = align_up(block, align) {
                // Both are multiples of GRANULE, so the padding is too.
                let front = start - block;
                if front.checked_add(size).is_some_and(|need| need <= block_size) {
                    let back = block_size - front - size;
                    // SAFETY: the pieces written below are free parts of the
                    // block we are splitting.
                    unsafe {
                        let after = if back > 0 { Self::make_block(start + size, back, next) } else { next };
                        if front > 0 {
                            // The aligned-away front stays in the list in place of `cur`.
                            (*cur).size = front;
                            (*cur).next = after;
                        } else {
                            self.link(prev, after);
                        }
                    }
                    return ptr::with_exposed_provenance_mut(start);
                }
            }
            prev = cur;
            cur = next;
        }
        self.fail(layout)
    }

    /// Makes `next` follow `prev` (or head the list when `prev` is null).
    ///
    /// # Safety
    /// `prev` must be null or a valid list node.
    unsafe fn link(&mut self, prev: *mut FreeBlock, next: *mut FreeBlock) {
        if prev.is_null() {
            self.free = next;
        } else {
            // SAFETY: per the caller, prev is a valid node.
            unsafe { (*prev).next = next };
        }
    }

    /// Returns the `size`-byte block at `addr` to the free list, merging it
    /// with adjacent free blocks.
    ///
    /// # Safety
    /// `[addr, addr + size)` must be a `GRANULE`-aligned range inside the
    /// arena that is allocated and no longer used.
    unsafe fn release(&mut self, addr: usize, size: usize) {
        debug_assert!(addr >= self.start && addr + size <= self.end && addr % GRANULE == 0);
        let mut prev: *mut FreeBlock = ptr::null_mut();
        let mut next = self.free;
        while !next.is_null() && (next as usize) < addr {
            prev = next;
            // SAFETY: list nodes are valid.
            next = unsafe { (*next).next };
        }
        // SAFETY: the range is ours (caller contract); prev/next are list
        // nodes (or null) bracketing it in address order.
        unsafe {
            let mut block = Self::make_block(addr, size, next);
            if !next.is_null() && addr + size == next as usize {
                (*block).size += (*next).size;
                (*block).next = (*next).next;
            }
            if !prev.is_null() && prev as usize + (*prev).size == addr {
                (*prev).size += (*block).size;
                (*prev).next = (*block).next;
                block = prev;
            }
            if block != prev {
                self.link(prev, block);
            }
        }
    }

    /// Frees a block from [`Heap::alloc`].
    ///
    /// # Safety
    /// `ptr` must come from this heap with this `layout` and not be freed yet.
    pub(crate) unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let size = block_size(layout.size()).unwrap_or(0);
        // SAFETY: per the caller, the block was allocated with this size.
        unsafe { self.release(ptr as usize, size) };
    }

    /// Resizes a block, in place when possible (shrinking always is; growing
    /// is when the next block is free and big enough), else by moving it.
    ///
    /// # Safety
    /// As [`GlobalAlloc::realloc`].
    pub(crate) unsafe fn realloc(&mut self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Ok(new_layout) = Layout::from_size_align(new_size, layout.align()) else {
            return self.fail(layout);
        };
        let (Some(old), Some(new)) = (block_size(layout.size()), block_size(new_size)) else {
            return self.fail(new_layout);
        };
        let addr = ptr as usize;
        if new <= old {
            if new < old {
                // SAFETY: the tail beyond `new` is ours and no longer used.
                unsafe { self.release(addr + new, old - new) };
            }
            return ptr;
        }
        if self.grow_in_place(addr + old, new - old) {
            return ptr;
        }
        let moved = self.alloc(new_layout);
        if !moved.is_null() {
            // SAFETY: distinct live blocks, the old one holds layout.size() bytes.
            unsafe {
                ptr::copy_nonoverlapping(ptr, moved, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        moved
    }

    /// Takes `extra` bytes from a free block starting exactly at `addr`.
    fn grow_in_place(&mut self, addr: usize, extra: usize) -> bool {
        let mut prev: *mut FreeBlock = ptr::null_mut();
        let mut cur = self.free;
        while !cur.is_null() && (cur as usize) < addr {
            prev = cur;
            // SAFETY: list nodes are valid.
            cur = unsafe { (*cur).next };
        }
        if cur as usize != addr {
            return false;
        }
        // SAFETY: cur is the free block at addr; we split it the same way as alloc.
        unsafe {
            let FreeBlock { size, next } = cur.read();
            if size < extra {
                return false;
            }
            let rest = if size > extra { Self::make_block(addr + extra, size - extra, next) } else { next };
            self.link(prev, rest);
        }
        true
    }
}

/// The `#[global_allocator]` of every guest: the [`Heap`] over the PEB's arena.
pub(crate) struct GuestAllocator {
    heap: GlobalCell<Heap>,
}

impl GuestAllocator {
    const fn new() -> Self {
        Self { heap: GlobalCell::new(Heap::empty()) }
    }

    /// Hands the arena `[base, base + size)` to the allocator.
    ///
    /// # Safety
    /// As [`Heap::init`]; and no allocation may be live (they would dangle).
    pub(crate) unsafe fn init(&self, base: usize, size: usize) {
        // SAFETY: forwarded from our caller.
        self.heap.with(|h| unsafe { h.init(base, size) });
    }

    /// The last request that failed.
    #[cfg_attr(test, allow(dead_code))] // used by the guest's panic handler
    pub(crate) fn last_failure(&self) -> Option<FailedRequest> {
        self.heap.with(|h| h.last_failure())
    }

    /// Current occupancy.
    #[cfg_attr(test, allow(dead_code))] // used by the guest's panic handler
    pub(crate) fn stats(&self) -> HeapStats {
        self.heap.with(|h| h.stats())
    }

    /// [`GlobalAlloc::alloc`] without a memory-profile record, for allocators
    /// built on this one (C's `malloc`) that record their callers' view.
    pub(crate) fn alloc_unrecorded(&self, layout: Layout) -> *mut u8 {
        self.heap.with(|h| h.alloc(layout))
    }

    /// [`GlobalAlloc::dealloc`] without a memory-profile record.
    ///
    /// # Safety
    /// As [`GlobalAlloc::dealloc`].
    pub(crate) unsafe fn dealloc_unrecorded(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded from our caller.
        self.heap.with(|h| unsafe { h.dealloc(ptr, layout) });
    }

    /// [`GlobalAlloc::realloc`] without a memory-profile record.
    ///
    /// # Safety
    /// As [`GlobalAlloc::realloc`].
    pub(crate) unsafe fn realloc_unrecorded(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded from our caller.
        self.heap.with(|h| unsafe { h.realloc(ptr, layout, new_size) })
    }
}

// SAFETY: the heap hands out disjoint, correctly aligned blocks of at least
// the requested size from memory it owns, and `GlobalCell` gives each call
// exclusive access (the guest is single-threaded and the heap never calls
// back into the allocator).
//
// With the `trace` feature each successful call is also recorded for memory
// profiles (a realloc as a free and an allocation), after the heap is done:
// recording never allocates, so it cannot re-enter the heap.
unsafe impl GlobalAlloc for GuestAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = self.alloc_unrecorded(layout);
        #[cfg(feature = "trace")]
        crate::tracing::memory::on_alloc(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: GlobalAlloc's contract is the heap's.
        unsafe { self.dealloc_unrecorded(ptr, layout) };
        #[cfg(feature = "trace")]
        crate::tracing::memory::on_free(ptr, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract is the heap's.
        let block = unsafe { self.realloc_unrecorded(ptr, layout, new_size) };
        #[cfg(feature = "trace")]
        if !block.is_null() {
            crate::tracing::memory::on_free(ptr, layout.size());
            crate::tracing::memory::on_alloc(block, new_size);
        }
        block
    }
}

/// The guest's allocator. Tests keep std's allocator and exercise [`Heap`]
/// directly, but OP_INIT still initialises this one.
#[cfg_attr(not(test), global_allocator)]
pub(crate) static ALLOCATOR: GuestAllocator = GuestAllocator::new();

/// The recorded failure of the heap behind the global allocator.
#[cfg_attr(test, allow(dead_code))] // used by the guest's panic handler
pub(crate) fn last_failure() -> Option<FailedRequest> {
    ALLOCATOR.last_failure()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arena of `size` bytes owned by the test.
    struct Arena {
        mem: Vec<u128>, // u128 for 16-byte alignment
        heap: Heap,
    }

    impl Arena {
        fn new(size: usize) -> Self {
            let mut mem = vec![0u128; size / 16];
            let mut heap = Heap::empty();
            // SAFETY: the Vec outlives the heap (both live in Arena) and is
            // used for nothing else.
            unsafe { heap.init(mem.as_mut_ptr() as usize, size) };
            Self { mem, heap }
        }

        fn base(&self) -> usize {
            self.mem.as_ptr() as usize
        }

        fn alloc(&mut self, size: usize, align: usize) -> *mut u8 {
            self.heap.alloc(Layout::from_size_align(size, align).unwrap())
        }

        fn free(&mut self, p: *mut u8, size: usize, align: usize) {
            // SAFETY: tests only free what they allocated with the same layout.
            unsafe { self.heap.dealloc(p, Layout::from_size_align(size, align).unwrap()) }
        }

        fn assert_whole(&self) {
            let stats = self.heap.stats();
            assert_eq!(stats.free, stats.size, "everything freed");
            assert_eq!(stats.largest_free, stats.size, "fully coalesced into one block");
        }
    }

    #[test]
    fn allocates_frees_and_coalesces_in_any_order() {
        for order in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [0, 2, 1], [1, 2, 0], [2, 0, 1]] {
            let mut a = Arena::new(4096);
            let ptrs: Vec<_> = (0..3).map(|_| a.alloc(100, 8)).collect();
            assert!(ptrs.iter().all(|p| !p.is_null() && *p as usize % GRANULE == 0));
            assert_eq!(ptrs[1] as usize - ptrs[0] as usize, 112, "first fit packs blocks");
            for i in order {
                a.free(ptrs[i], 100, 8);
            }
            a.assert_whole();
        }
    }

    #[test]
    fn honours_large_alignment_and_reuses_the_padding() {
        let mut a = Arena::new(64 * 1024);
        let small = a.alloc(16, 1);
        let page = a.alloc(4096, 4096);
        assert_eq!(page as usize % 4096, 0);
        // The gap before the aligned block stays usable.
        let gap = a.alloc(32, 8);
        assert!((gap as usize) < page as usize);
        a.free(page, 4096, 4096);
        a.free(small, 16, 1);
        a.free(gap, 32, 8);
        a.assert_whole();
    }

    #[test]
    fn exhaustion_returns_null_and_records_the_request() {
        let mut a = Arena::new(1024);
        assert!(a.alloc(2000, 8).is_null());
        assert_eq!(a.heap.last_failure(), Some(FailedRequest { size: 2000, align: 8 }));
        let whole = a.alloc(1024, 16);
        assert!(!whole.is_null(), "an exact fit succeeds");
        assert!(a.alloc(1, 1).is_null());
        assert_eq!(a.heap.last_failure(), Some(FailedRequest { size: 1, align: 1 }));
        assert!(a.alloc(isize::MAX as usize, 1).is_null(), "huge sizes fail cleanly");
        a.free(whole, 1024, 16);
        a.assert_whole();
    }

    #[test]
    fn realloc_shrinks_grows_in_place_and_moves() {
        let mut a = Arena::new(4096);
        let l = Layout::from_size_align(64, 8).unwrap();
        let p = a.heap.alloc(l);
        // SAFETY: p holds 64 bytes.
        unsafe { p.write_bytes(0xab, 64) };
        // SAFETY: p is live with layout l.
        let grown = unsafe { a.heap.realloc(p, l, 1000) };
        assert_eq!(grown, p, "the free space after the block is taken in place");
        let l = Layout::from_size_align(1000, 8).unwrap();
        // SAFETY: grown is live with layout l.
        let shrunk = unsafe { a.heap.realloc(grown, l, 10) };
        assert_eq!(shrunk, p);
        let l = Layout::from_size_align(10, 8).unwrap();
        let blocker = a.alloc(16, 8); // sits right after the 16-byte block
        assert_eq!(blocker as usize, p as usize + 16);
        // SAFETY: shrunk is live with layout l.
        let moved = unsafe { a.heap.realloc(shrunk, l, 200) };
        assert_ne!(moved, p);
        // SAFETY: moved holds 200 bytes, the first 10 copied from p.
        assert!(unsafe { core::slice::from_raw_parts(moved, 10) }.iter().all(|&b| b == 0xab));
        // SAFETY: moved is live with a 200-byte layout; a failed realloc leaves it so.
        assert!(unsafe { a.heap.realloc(moved, Layout::from_size_align(200, 8).unwrap(), 1 << 20) }.is_null());
        a.free(moved, 200, 8);
        a.free(blocker, 16, 8);
        a.assert_whole();
    }

    #[test]
    fn randomised_workload_keeps_blocks_disjoint_and_intact() {
        let mut a = Arena::new(256 * 1024);
        let mut live: Vec<(usize, usize, usize, u8)> = Vec::new(); // addr, size, align, fill
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..20_000 {
            let r = rand();
            if r % 3 != 0 || live.is_empty() {
                let size = (rand() % 3000) as usize;
                let align = 1 << (rand() % 9);
                let p = a.alloc(size, align);
                if p.is_null() {
                    continue;
                }
                assert_eq!(p as usize % align, 0);
                let fill = step as u8;
                // SAFETY: p holds `size` bytes.
                unsafe { p.write_bytes(fill, size) };
                live.push((p as usize, size, align, fill));
            } else {
                let (addr, size, align, fill) = live.swap_remove((rand() as usize) % live.len());
                // SAFETY: addr holds `size` bytes we filled.
                let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, size) };
                assert!(bytes.iter().all(|&b| b == fill), "block contents intact");
                a.free(addr as *mut u8, size, align);
            }
            if step % 1000 == 0 {
                let mut spans: Vec<_> = live.iter().map(|&(p, s, _, _)| (p, p + s.max(1))).collect();
                spans.sort();
                assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "no two live blocks overlap");
                assert!(spans.iter().all(|&(s, e)| s >= a.base() && e <= a.base() + 256 * 1024));
            }
        }
        for (addr, size, align, _) in live {
            a.free(addr as *mut u8, size, align);
        }
        a.assert_whole();
    }

    #[test]
    fn unaligned_or_tiny_arenas_are_trimmed() {
        let mut mem = vec![0u128; 8];
        let mut heap = Heap::empty();
        let base = mem.as_mut_ptr() as usize;
        // SAFETY: the range lies inside `mem`.
        unsafe { heap.init(base + 3, 100) };
        let stats = heap.stats();
        assert_eq!(stats.size, 80, "[base+16, base+96)");
        // SAFETY: as above.
        unsafe { heap.init(base + 1, 10) };
        assert_eq!(heap.stats().size, 0);
        assert!(heap.alloc(Layout::new::<u8>()).is_null());
    }
}
