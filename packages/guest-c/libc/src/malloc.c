/*
 * The guest heap: a boundary-tag allocator over the PEB's heap area.
 *
 * Every block starts with a 16-byte header {prev_size, size | USED}; the
 * payload follows, so payloads are 16-byte aligned. prev_size lets free()
 * find the block before it, so a freed block merges with free neighbours on
 * both sides immediately (no fragmentation from adjacent free blocks).
 * Free blocks sit in 64 size-class lists (class = floor(log2(size))) with a
 * bitmap of non-empty classes: malloc looks at its own class first-fit, then
 * takes any block of the next non-empty larger class, so every operation is
 * O(blocks in one class). Sentinel blocks marked USED at both ends of the
 * arena stop merging without bounds checks.
 *
 * Memory profiling (TRACE_FLAG_MEMORY): the public entry points append ALLOC
 * (the requested size) and FREE (the block's usable size from its header)
 * with the caller's stack; they call the heap_* functions inside, so each
 * operation is recorded once, from where the guest asked for it.
 */
#include <errno.h>
#include <hyperlight/guest.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/trace_rt.h"
#include "heap.h"

#define USED ((size_t)1)
#define HDR ((size_t)16)
#define MIN_BLOCK ((size_t)32) /* header + two free-list links */

typedef struct block {
  size_t prev_size;
  size_t size_used;
  struct block *next_free; /* only while free */
  struct block *prev_free;
} block;

static struct {
  uintptr_t lo, hi; /* the arena, including sentinels */
  block *bins[64];
  uint64_t nonempty;
} heap;

static size_t size_of(const block *b) { return b->size_used & ~USED; }
static bool is_used(const block *b) { return b->size_used & USED; }
static block *next_of(block *b) { return (block *)((uintptr_t)b + size_of(b)); }
static block *prev_of(block *b) { return (block *)((uintptr_t)b - b->prev_size); }
static block *block_of(void *p) { return (block *)((uintptr_t)p - HDR); }
static void *payload(block *b) { return (void *)((uintptr_t)b + HDR); }
static unsigned bin_of(size_t size) { return 63u - (unsigned)__builtin_clzll(size); }

static void bin_insert(block *b) {
  unsigned i = bin_of(size_of(b));
  b->prev_free = NULL;
  b->next_free = heap.bins[i];
  if (b->next_free) b->next_free->prev_free = b;
  heap.bins[i] = b;
  heap.nonempty |= 1ull << i;
}

static void bin_remove(block *b) {
  unsigned i = bin_of(size_of(b));
  if (b->prev_free) b->prev_free->next_free = b->next_free;
  else heap.bins[i] = b->next_free;
  if (b->next_free) b->next_free->prev_free = b->prev_free;
  if (!heap.bins[i]) heap.nonempty &= ~(1ull << i);
}

/* Sets a block's size and keeps the following block's prev_size in step. */
static void set_size(block *b, size_t size, size_t used) {
  b->size_used = size | used;
  next_of(b)->prev_size = size;
}

void hl_heap_init(void *base, size_t size) {
  uintptr_t lo = ((uintptr_t)base + 15) & ~(uintptr_t)15;
  uintptr_t hi = ((uintptr_t)base + size) & ~(uintptr_t)15;
  memset(&heap, 0, sizeof heap);
  if (!base || hi < lo + 2 * HDR + MIN_BLOCK) return; /* too small: every malloc fails */
  heap.lo = lo;
  heap.hi = hi;
  block *start = (block *)lo, *end = (block *)(hi - HDR), *first = (block *)(lo + HDR);
  start->prev_size = 0;
  start->size_used = HDR | USED;
  end->size_used = HDR | USED;
  set_size(first, (uintptr_t)end - (uintptr_t)first, 0);
  first->prev_size = HDR;
  bin_insert(first);
}

/* Block size for a request, or 0 if it can never fit. */
static size_t block_size_for(size_t n) {
  if (n > heap.hi - heap.lo) return 0;
  size_t s = (n + HDR + 15) & ~(size_t)15;
  return s < MIN_BLOCK ? MIN_BLOCK : s;
}

/* Marks `b` used at `size` bytes, returning any worthwhile tail to the bins. */
static void split_used(block *b, size_t size) {
  size_t total = size_of(b);
  if (total - size >= MIN_BLOCK) {
    set_size(b, size, USED);
    block *rest = next_of(b);
    set_size(rest, total - size, 0);
    bin_insert(rest);
  } else {
    set_size(b, total, USED);
  }
}

static block *find_free(size_t size) {
  unsigned i = bin_of(size);
  for (block *b = heap.bins[i]; b; b = b->next_free)
    if (size_of(b) >= size) return b;
  uint64_t larger = i < 63 ? heap.nonempty & (~0ull << (i + 1)) : 0;
  return larger ? heap.bins[__builtin_ctzll(larger)] : NULL;
}

static void *heap_malloc(size_t n) {
  size_t size = block_size_for(n);
  block *b = size ? find_free(size) : NULL;
  if (!b) {
    errno = ENOMEM;
    return NULL;
  }
  bin_remove(b);
  split_used(b, size);
  return payload(b);
}

/* Rejects pointers malloc never returned: heap corruption must not spread. */
static block *checked_block(void *p, const char *what) {
  uintptr_t a = (uintptr_t)p;
  block *b = block_of(p);
  if ((a & 15) || a < heap.lo + 2 * HDR || a >= heap.hi || !is_used(b) || size_of(b) < MIN_BLOCK ||
      size_of(b) > heap.hi - a || next_of(b)->prev_size != size_of(b))
    hl_panic("%s(): invalid pointer or double free (%p)", what, p);
  return b;
}

/* Frees `b`, merging with free neighbours. */
static void release(block *b) {
  size_t size = size_of(b);
  block *n = next_of(b);
  if (!is_used(n)) {
    bin_remove(n);
    size += size_of(n);
  }
  if (!is_used(prev_of(b))) {
    b = prev_of(b);
    bin_remove(b);
    size += size_of(b);
  }
  set_size(b, size, 0);
  bin_insert(b);
}

static void heap_free(void *p) {
  if (p) release(checked_block(p, "free"));
}

static void *heap_calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = heap_malloc(total);
  if (p) memset(p, 0, total);
  return p;
}

static void *heap_realloc(void *p, size_t n) {
  if (!p) return heap_malloc(n);
  if (n == 0) {
    heap_free(p);
    return NULL;
  }
  block *b = checked_block(p, "realloc");
  size_t need = block_size_for(n);
  if (!need) {
    errno = ENOMEM;
    return NULL;
  }
  block *next = next_of(b);
  if (size_of(b) < need && !is_used(next) && size_of(b) + size_of(next) >= need) {
    bin_remove(next); /* grow in place into the free neighbour */
    set_size(b, size_of(b) + size_of(next), USED);
  }
  if (size_of(b) >= need) {
    size_t total = size_of(b);
    split_used(b, need);
    if (size_of(b) < total) {
      block *rest = next_of(b); /* merge the cut-off tail with what follows */
      bin_remove(rest);
      set_size(rest, size_of(rest), USED);
      release(rest);
    }
    return p;
  }
  void *q = heap_malloc(n);
  if (!q) return NULL;
  memcpy(q, p, size_of(b) - HDR);
  heap_free(p);
  return q;
}

static void *heap_aligned_alloc(size_t align, size_t n) {
  if (align & (align - 1)) {
    errno = EINVAL;
    return NULL;
  }
  if (align <= 16) return heap_malloc(n);
  if (n > heap.hi - heap.lo) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = heap_malloc(n + align + MIN_BLOCK);
  if (!p || ((uintptr_t)p & (align - 1)) == 0) return p;
  /* Move the start up to an aligned address, leaving room for the cut-off
   * front to be a free block of its own. */
  uintptr_t a = ((uintptr_t)p + MIN_BLOCK + align - 1) & ~(uintptr_t)(align - 1);
  block *b = block_of(p), *c = block_of((void *)a);
  size_t front = (uintptr_t)c - (uintptr_t)b, total = size_of(b);
  set_size(c, total - front, USED);
  set_size(b, front, USED);
  release(b);
  return (void *)a;
}

/* ---- the public entry points, profiled ---------------------------------------- */

#define PROFILING() __builtin_expect(hl_rt_trace_flags & HL_TRACE_FLAG_MEMORY, 0)
/* The entry point's own frame: the stack walk starts at its caller. */
#define FRAME() ((void *const *)__builtin_frame_address(0))

void *malloc(size_t n) {
  void *p = heap_malloc(n);
  if (PROFILING() && p) hl_rt_trace_memory(HL_TRACE_KIND_ALLOC, p, n, FRAME());
  return p;
}

void *calloc(size_t n, size_t size) {
  void *p = heap_calloc(n, size);
  if (PROFILING() && p) hl_rt_trace_memory(HL_TRACE_KIND_ALLOC, p, n * size, FRAME());
  return p;
}

void *aligned_alloc(size_t align, size_t n) {
  void *p = heap_aligned_alloc(align, n);
  if (PROFILING() && p) hl_rt_trace_memory(HL_TRACE_KIND_ALLOC, p, n, FRAME());
  return p;
}

void free(void *p) {
  if (PROFILING() && p) hl_rt_trace_memory(HL_TRACE_KIND_FREE, p, size_of(checked_block(p, "free")) - HDR, FRAME());
  heap_free(p);
}

void *realloc(void *p, size_t n) {
  if (!PROFILING()) return heap_realloc(p, n);
  size_t old = p ? size_of(checked_block(p, "realloc")) - HDR : 0;
  void *q = heap_realloc(p, n);
  if (p && (q || n == 0)) hl_rt_trace_memory(HL_TRACE_KIND_FREE, p, old, FRAME());
  if (q) hl_rt_trace_memory(HL_TRACE_KIND_ALLOC, q, n, FRAME());
  return q;
}

size_t hl_heap_largest_free(void) {
  if (!heap.nonempty) return 0;
  size_t best = 0;
  for (block *b = heap.bins[63 - __builtin_clzll(heap.nonempty)]; b; b = b->next_free)
    if (size_of(b) > best) best = size_of(b);
  return best - HDR;
}
