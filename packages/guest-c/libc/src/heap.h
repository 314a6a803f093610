/* Internal interface of the guest heap allocator (malloc.c). */
#ifndef HL_HEAP_H
#define HL_HEAP_H

#include <stddef.h>

/** Hands the allocator the arena [base, base + size); forgets any previous arena. */
void hl_heap_init(void *base, size_t size);
/** Usable bytes of the largest free block (0 before init): tests use it to see coalescing. */
size_t hl_heap_largest_free(void);

#endif /* HL_HEAP_H */
