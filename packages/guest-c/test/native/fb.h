/*
 * A minimal FlatBuffers reader and builder, just enough for the schema/ .fbs files.
 *
 * Reader: every access is bounds-checked against the buffer, so a hostile
 * host (or a bug) yields `false`, never an out-of-bounds read. Scalars are
 * read with memcpy, so misaligned input is harmless.
 *
 * Builder: builds back to front inside a caller-provided region (usually the
 * output buffer itself, so encoding needs no heap) and writes every scalar
 * field even when it equals the schema default, so -0.0 survives the trip.
 * Offsets are "distance from the end of the region", as in the reference
 * implementation; hl_fb_finish moves the finished buffer to the region start.
 */
#ifndef HL_FB_H
#define HL_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- reader ------------------------------------------------------------ */

/** A table inside a verified-on-access buffer. */
typedef struct hl_fb_table {
  const uint8_t *buf; /* whole flatbuffer (without size prefix) */
  size_t len;
  size_t pos;         /* table start */
  size_t vtable;      /* vtable start */
  uint16_t vtable_len;
} hl_fb_table;

/** A vector inside a buffer: `count` elements starting at `pos`. */
typedef struct hl_fb_vector {
  const uint8_t *buf;
  size_t len;
  size_t pos;
  uint32_t count;
} hl_fb_vector;

/** Opens the root table of the `len`-byte flatbuffer at `buf`. */
bool hl_fb_root(const uint8_t *buf, size_t len, hl_fb_table *out);
/** Sets `*present` to whether field `id` is stored (false when the vtable is too short). */
bool hl_fb_has(const hl_fb_table *t, unsigned id);
/** Reads scalar field `id` of `size` bytes into `out`, or copies `def` when absent. */
bool hl_fb_scalar(const hl_fb_table *t, unsigned id, size_t size, const void *def, void *out);
/** Reads table field `id`; `*present` false when absent. */
bool hl_fb_subtable(const hl_fb_table *t, unsigned id, hl_fb_table *out, bool *present);
/** Reads string field `id` (pointer into the buffer, not NUL-checked); `*present` false when absent. */
bool hl_fb_string(const hl_fb_table *t, unsigned id, const char **data, uint32_t *len, bool *present);
/** Reads vector field `id` whose elements are `elem_size` bytes; `*present` false when absent. */
bool hl_fb_vector_field(const hl_fb_table *t, unsigned id, size_t elem_size, hl_fb_vector *out, bool *present);
/** Reads element `i` of a vector of tables. */
bool hl_fb_vector_table(const hl_fb_vector *v, uint32_t i, hl_fb_table *out);

/* ---- builder ----------------------------------------------------------- */

/** Most fields one table may have (LogRecord has the most: 5). */
#define HL_FB_MAX_FIELDS 8

/** Offset of an object, measured from the end of the builder's region. */
typedef uint32_t hl_fb_ref;

/** Builder state; `failed` sticks once the region is too small. */
typedef struct hl_fb_builder {
  uint8_t *region;
  size_t cap;
  size_t used;       /* bytes written, at the end of the region */
  size_t max_align;  /* strictest alignment seen, for finishing */
  bool failed;
  bool in_table;
  size_t table_start;                      /* `used` when the table began */
  hl_fb_ref field_at[HL_FB_MAX_FIELDS];    /* 0 = field not written */
  unsigned field_count;
} hl_fb_builder;

void hl_fb_init(hl_fb_builder *b, void *region, size_t cap);
/** Writes a string (length, bytes, NUL). */
hl_fb_ref hl_fb_create_string(hl_fb_builder *b, const char *s, size_t len);
/** Writes a vector of `count` scalars of `elem_size` bytes (little-endian host order). */
hl_fb_ref hl_fb_create_vector(hl_fb_builder *b, const void *data, size_t count, size_t elem_size);
/** Writes a vector of offsets to objects already in the buffer. */
hl_fb_ref hl_fb_create_ref_vector(hl_fb_builder *b, const hl_fb_ref *refs, size_t count);
void hl_fb_start_table(hl_fb_builder *b);
/** Adds scalar field `id` (always written, even when it equals the default). */
void hl_fb_add_scalar(hl_fb_builder *b, unsigned id, const void *value, size_t size);
/** Adds a reference field `id` (string, vector or table). */
void hl_fb_add_ref(hl_fb_builder *b, unsigned id, hl_fb_ref ref);
hl_fb_ref hl_fb_end_table(hl_fb_builder *b);
/**
 * Finishes a size-prefixed buffer with `root` and moves it to the start of the
 * region. @returns the total size (prefix included), or 0 if it did not fit.
 */
size_t hl_fb_finish(hl_fb_builder *b, hl_fb_ref root);

#endif /* HL_FB_H */
