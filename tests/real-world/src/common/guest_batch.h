/* The guest side of batches: one guest function, `Batch(bytes) -> bytes`, over real_world_op. */
#ifndef REAL_WORLD_GUEST_BATCH_H
#define REAL_WORLD_GUEST_BATCH_H

#include <hyperlight/guest.h>

#include "batch.h"

/** Registers `Batch(bytes) -> bytes`; a malformed request fails the call. */
void rw_register_batch(void);

/** Turns a filled buffer into a bytes result (copied to run memory) and frees it; out of memory fails the call. */
hl_result rw_bytes_result(rw_buffer *b);

/** Turns a filled buffer into a string result (copied to run memory) and frees it. */
hl_result rw_string_result(rw_buffer *b);

#endif
