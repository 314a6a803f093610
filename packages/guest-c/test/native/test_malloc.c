/* The guest heap allocator (libc/src/malloc.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hlt.h"

static _Alignas(16) unsigned char arena[1 << 20];

static void fresh(size_t size) { hlt_hl_heap_init(arena, size); }

TEST(malloc_returns_aligned_disjoint_blocks) {
  fresh(sizeof arena);
  unsigned char *p[100];
  for (int i = 0; i < 100; i++) {
    p[i] = hlt_malloc((size_t)i * 13 + 1);
    CHECK(p[i] && ((uintptr_t)p[i] & 15) == 0, "malloc %d not aligned: %p", i, (void *)p[i]);
    memset(p[i], i, (size_t)i * 13 + 1);
  }
  for (int i = 0; i < 100; i++)
    for (size_t j = 0; j < (size_t)i * 13 + 1; j++)
      if (p[i][j] != i) {
        CHECK(0, "block %d overwritten at %zu", i, j);
        break;
      }
  CHECK(hlt_malloc(0) != NULL, "malloc(0) gives a unique pointer");
}

TEST(free_coalesces_back_to_one_block) {
  fresh(sizeof arena);
  size_t whole = hlt_hl_heap_largest_free();
  CHECK(whole > sizeof arena - 128, "initial free block %zu", whole);
  void *p[64];
  for (int i = 0; i < 64; i++) p[i] = hlt_malloc(1000 + (size_t)i);
  /* Free in an interleaved order so merges happen on both sides. */
  for (int i = 0; i < 64; i += 2) hlt_free(p[i]);
  CHECK(hlt_hl_heap_largest_free() < whole, "still fragmented");
  for (int i = 1; i < 64; i += 2) hlt_free(p[i]);
  CHECK(hlt_hl_heap_largest_free() == whole, "after freeing everything: %zu, want %zu", hlt_hl_heap_largest_free(), whole);
}

TEST(malloc_returns_null_when_exhausted) {
  fresh(64 * 1024);
  size_t total = 0;
  void *last = NULL;
  for (int i = 0; i < 10000; i++) {
    void *p = hlt_malloc(1000);
    if (!p) break;
    last = p;
    total += 1000;
  }
  CHECK(total > 50000 && total < 64 * 1024, "allocated %zu of 64 KiB", total);
  hlt_errno = 0;
  CHECK(hlt_malloc(1000) == NULL && hlt_errno == 12, "exhausted: NULL and ENOMEM");
  CHECK(hlt_malloc(SIZE_MAX) == NULL, "SIZE_MAX");
  CHECK(hlt_calloc(SIZE_MAX / 2, 3) == NULL, "calloc overflow");
  hlt_free(last);
  CHECK(hlt_malloc(1000) != NULL, "a freed block is reused");
}

TEST(realloc_grows_shrinks_and_keeps_data) {
  fresh(sizeof arena);
  unsigned char *p = hlt_malloc(100);
  for (int i = 0; i < 100; i++) p[i] = (unsigned char)i;
  unsigned char *q = hlt_realloc(p, 5000); /* the neighbour is free: grows in place */
  CHECK(q == p, "grow in place");
  for (int i = 0; i < 100; i++) CHECK(q[i] == i, "byte %d after grow", i);
  void *blocker = hlt_malloc(10);
  unsigned char *r = hlt_realloc(q, 20000); /* blocked: moves */
  CHECK(r && r != q, "moved");
  for (int i = 0; i < 100; i++) CHECK(r[i] == i, "byte %d after move", i);
  unsigned char *s = hlt_realloc(r, 50);
  CHECK(s == r, "shrink in place");
  for (int i = 0; i < 50; i++) CHECK(s[i] == i, "byte %d after shrink", i);
  CHECK(hlt_realloc(NULL, 10) != NULL, "realloc(NULL) mallocs");
  CHECK(hlt_realloc(s, 0) == NULL, "realloc(p, 0) frees");
  hlt_free(blocker);
  unsigned char *c = hlt_calloc(100, 10);
  bool zero = true;
  for (int i = 0; i < 1000; i++) zero = zero && c[i] == 0;
  CHECK(zero, "calloc zeroes");
}

TEST(aligned_alloc_honours_alignment) {
  fresh(sizeof arena);
  for (size_t align = 1; align <= 8192; align *= 2) {
    void *p = hlt_aligned_alloc(align, 100);
    CHECK(p && ((uintptr_t)p & (align - 1)) == 0, "align %zu: %p", align, p);
    memset(p, 1, 100);
    hlt_free(p);
  }
  CHECK(hlt_aligned_alloc(24, 10) == NULL, "non-power-of-two");
  size_t whole = hlt_hl_heap_largest_free();
  CHECK(whole > sizeof arena - 128, "all merged again: %zu", whole);
}

static void bad_free(void *p) { hlt_free(p); }

TEST(invalid_and_double_free_panic) {
  fresh(sizeof arena);
  char *p = hlt_malloc(64);
  hlt_free(p);
  CHECK(hlt_catch_abort(bad_free, p), "double free not caught");
  CHECK(hlt_abort_code == 0x80000001u && strstr(hlt_abort_message, "free(): invalid pointer or double free"), "message %s",
        hlt_abort_message);
  char *q = hlt_malloc(64);
  CHECK(hlt_catch_abort(bad_free, q + 16), "interior pointer not caught");
  static char outside[64];
  CHECK(hlt_catch_abort(bad_free, outside + 16), "pointer outside the heap not caught");
}

TEST(random_workload_stays_consistent) {
  fresh(sizeof arena);
  size_t whole = hlt_hl_heap_largest_free();
  enum { SLOTS = 200 };
  unsigned char *p[SLOTS] = {0};
  size_t n[SLOTS] = {0};
  uint64_t state = 99;
  for (int step = 0; step < 20000; step++) {
    state = state * 6364136223846793005ull + 1;
    int i = (int)((state >> 33) % SLOTS);
    size_t size = (state >> 13) % ((state & 1) ? 64 : 8000);
    if (p[i]) {
      for (size_t j = 0; j < n[i]; j++)
        if (p[i][j] != (unsigned char)(i + j)) {
          CHECK(0, "slot %d corrupted at %zu (step %d)", i, j, step);
          return;
        }
      if (state & 2) {
        hlt_free(p[i]);
        p[i] = NULL;
        continue;
      }
      unsigned char *q = hlt_realloc(p[i], size + 1);
      if (!q) continue;
      p[i] = q;
      for (size_t j = n[i]; j < size + 1; j++) p[i][j] = (unsigned char)(i + j);
      n[i] = size + 1;
    } else {
      p[i] = hlt_malloc(size);
      if (!p[i]) continue;
      n[i] = size;
      for (size_t j = 0; j < size; j++) p[i][j] = (unsigned char)(i + j);
    }
  }
  for (int i = 0; i < SLOTS; i++) hlt_free(p[i]);
  CHECK(hlt_hl_heap_largest_free() == whole, "leak or lost merge: %zu vs %zu", hlt_hl_heap_largest_free(), whole);
}
