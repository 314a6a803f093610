/*
 * Batches of operations, shared by every front end (guest and native CLI).
 *
 * A request is a sequence of records, each `u8 op, u32le arg, u32le len,
 * len bytes`; the response holds one record per request record, in order:
 * `u32le status, u32le len, len bytes`. Status 0 is success; other values
 * are the library's own error codes (cast to u32). The library's logic
 * supplies the operation (`real_world_op`); the framing lives here.
 */
#ifndef REAL_WORLD_BATCH_H
#define REAL_WORLD_BATCH_H

#include <stddef.h>
#include <stdint.h>

/** A growable byte buffer; once an allocation fails, `failed` stays set and writes are dropped. */
typedef struct rw_buffer {
  uint8_t *data; /* malloc'd, NULL while empty */
  size_t len;    /* bytes used */
  size_t cap;    /* bytes allocated */
  int failed;    /* nonzero after an allocation failure */
} rw_buffer;

/** Appends `n` bytes; returns 0, or -1 (and sets `failed`) when memory runs out. */
int rw_put(rw_buffer *b, const void *p, size_t n);

/** Appends a NUL-terminated string (without its NUL). */
int rw_puts(rw_buffer *b, const char *s);

/** Appends printf-formatted text. */
int rw_printf(rw_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Appends a u32 in little-endian order. */
int rw_put_u32(rw_buffer *b, uint32_t v);

/** Frees the buffer's memory and empties it. */
void rw_free(rw_buffer *b);

/**
 * One operation of a library: reads `len` bytes at `in`, appends its result to
 * `out` and returns the record's status (0 on success).
 */
typedef uint32_t (*rw_op_fn)(uint8_t op, uint32_t arg, const uint8_t *in, size_t len, rw_buffer *out);

/** The library's operations; each logic file defines it. */
uint32_t real_world_op(uint8_t op, uint32_t arg, const uint8_t *in, size_t len, rw_buffer *out);

/** Why a whole batch failed. */
typedef enum rw_batch_error {
  RW_BATCH_OK = 0,
  RW_BATCH_MALFORMED = 1, /* a record header or length runs past the request */
  RW_BATCH_NO_MEMORY = 2, /* the response could not be allocated */
} rw_batch_error;

/** Runs every record of `request` through `op`, appending the response to `out`. */
rw_batch_error rw_batch_run(const uint8_t *request, size_t len, rw_op_fn op, rw_buffer *out);

/** @returns a short English description of `error`. */
const char *rw_batch_error_text(rw_batch_error error);

#endif
