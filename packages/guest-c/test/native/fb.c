/* FlatBuffers reader and builder; see fb.h. Wire format reference: the
 * FlatBuffers "internals" documentation (vtables of u16, tables that start
 * with an i32 offset back to their vtable, u32 forward offsets). */
#include "fb.h"

#include <string.h>

/* ---- reader ------------------------------------------------------------ */

static bool in_bounds(size_t len, size_t pos, size_t size) { return pos <= len && size <= len - pos; }

/* Fixed-size copies use __builtin_memcpy: -ffreestanding turns every plain
 * memcpy into a call (a `rep movsb` here), even for 2 bytes, while the
 * builtin with a constant size is a single move. */
static uint16_t rd16(const uint8_t *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static void wr16(uint8_t *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }
static void wr32(uint8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }

/* Copies a scalar field: 1, 4 or 8 bytes inline, other sizes through memcpy. */
static void copy_scalar(void *dst, const void *src, size_t size) {
  switch (size) {
    case 1: __builtin_memcpy(dst, src, 1); break;
    case 4: __builtin_memcpy(dst, src, 4); break;
    case 8: __builtin_memcpy(dst, src, 8); break;
    default: memcpy(dst, src, size); break;
  }
}

static bool open_table(const uint8_t *buf, size_t len, size_t pos, hl_fb_table *out) {
  if (!in_bounds(len, pos, 4)) return false;
  int32_t back = (int32_t)rd32(buf + pos);
  /* vtable = table - soffset; computed in 64 bits so it cannot wrap. */
  int64_t vt = (int64_t)pos - (int64_t)back;
  if (vt < 0 || !in_bounds(len, (size_t)vt, 4)) return false;
  uint16_t vlen = rd16(buf + vt);
  uint16_t tlen = rd16(buf + vt + 2);
  if (vlen < 4 || (vlen & 1) || !in_bounds(len, (size_t)vt, vlen)) return false;
  if (tlen < 4 || !in_bounds(len, pos, tlen)) return false;
  out->buf = buf;
  out->len = len;
  out->pos = pos;
  out->vtable = (size_t)vt;
  out->vtable_len = vlen;
  return true;
}

bool hl_fb_root(const uint8_t *buf, size_t len, hl_fb_table *out) {
  if (!in_bounds(len, 0, 4)) return false;
  return open_table(buf, len, rd32(buf), out);
}

/* Position of field `id` in the table, or 0 when absent. The field must lie
 * inside the table's declared inline size. */
static bool field_pos(const hl_fb_table *t, unsigned id, size_t size, size_t *pos) {
  size_t slot = 4 + 2 * (size_t)id;
  *pos = 0;
  if (slot + 2 > t->vtable_len) return true;
  uint16_t off = rd16(t->buf + t->vtable + slot);
  if (off == 0) return true;
  uint16_t tlen = rd16(t->buf + t->vtable + 2);
  if (off < 4 || (size_t)off + size > tlen) return false;
  *pos = t->pos + off;
  return true;
}

bool hl_fb_has(const hl_fb_table *t, unsigned id) {
  size_t pos;
  return field_pos(t, id, 1, &pos) && pos != 0;
}

bool hl_fb_scalar(const hl_fb_table *t, unsigned id, size_t size, const void *def, void *out) {
  size_t pos;
  if (!field_pos(t, id, size, &pos)) return false;
  copy_scalar(out, pos ? t->buf + pos : (const uint8_t *)def, size);
  return true;
}

/* Follows the u32 offset stored in field `id`; `*target` 0 when absent. */
static bool deref(const hl_fb_table *t, unsigned id, size_t *target) {
  size_t pos;
  *target = 0;
  if (!field_pos(t, id, 4, &pos)) return false;
  if (pos == 0) return true;
  uint32_t rel = rd32(t->buf + pos);
  if (rel == 0 || !in_bounds(t->len, pos, rel)) return false;
  *target = pos + rel;
  return true;
}

bool hl_fb_subtable(const hl_fb_table *t, unsigned id, hl_fb_table *out, bool *present) {
  size_t target;
  if (!deref(t, id, &target)) return false;
  *present = target != 0;
  return !*present || open_table(t->buf, t->len, target, out);
}

bool hl_fb_vector_field(const hl_fb_table *t, unsigned id, size_t elem_size, hl_fb_vector *out, bool *present) {
  size_t target;
  if (!deref(t, id, &target)) return false;
  *present = target != 0;
  if (!*present) return true;
  if (!in_bounds(t->len, target, 4)) return false;
  uint32_t count = rd32(t->buf + target);
  /* count * elem_size cannot overflow 64 bits: count < 2^32, elem_size <= 8. */
  if (!in_bounds(t->len, target + 4, (size_t)count * elem_size)) return false;
  out->buf = t->buf;
  out->len = t->len;
  out->pos = target + 4;
  out->count = count;
  return true;
}

bool hl_fb_string(const hl_fb_table *t, unsigned id, const char **data, uint32_t *len, bool *present) {
  hl_fb_vector v;
  if (!hl_fb_vector_field(t, id, 1, &v, present)) return false;
  if (*present) {
    *data = (const char *)v.buf + v.pos;
    *len = v.count;
  }
  return true;
}

bool hl_fb_vector_table(const hl_fb_vector *v, uint32_t i, hl_fb_table *out) {
  if (i >= v->count) return false;
  size_t pos = v->pos + 4 * (size_t)i;
  uint32_t rel = rd32(v->buf + pos);
  if (rel == 0 || !in_bounds(v->len, pos, rel)) return false;
  return open_table(v->buf, v->len, pos + rel, out);
}

/* ---- builder ----------------------------------------------------------- */

void hl_fb_init(hl_fb_builder *b, void *region, size_t cap) {
  /* Field by field: clearing the whole struct is a `rep stos`, and
   * field_at is reset by every hl_fb_start_table anyway. */
  b->region = region;
  b->cap = cap;
  b->used = 0;
  b->max_align = 4;
  b->failed = false;
  b->in_table = false;
  b->table_start = 0;
  b->field_count = 0;
}

/* Pads so that after writing `size` more bytes, `used` is a multiple of
 * `align`: objects are aligned relative to the buffer end, which
 * hl_fb_finish keeps aligned relative to the start as well. */
static void prealign(hl_fb_builder *b, size_t size, size_t align) {
  if (align > b->max_align) b->max_align = align;
  size_t pad = (align - ((b->used + size) & (align - 1))) & (align - 1);
  if (b->failed || pad > b->cap - b->used) { b->failed = true; return; }
  uint8_t *end = b->region + b->cap - b->used;
  for (uint8_t *p = end - pad; p < end; p++) *p = 0; /* at most 7 bytes: no memset call */
  b->used += pad;
}

/* Prepends `size` bytes; returns where they go, or NULL when full. */
static uint8_t *grow(hl_fb_builder *b, size_t size) {
  if (b->failed || size > b->cap - b->used) { b->failed = true; return NULL; }
  b->used += size;
  return b->region + b->cap - b->used;
}

static void push32(hl_fb_builder *b, uint32_t v) {
  uint8_t *p = grow(b, 4);
  if (p) wr32(p, v);
}

/* Pushes an offset to `ref`, stored relative to its own position. */
static void push_ref(hl_fb_builder *b, hl_fb_ref ref) {
  prealign(b, 4, 4);
  push32(b, (uint32_t)(b->used + 4 - ref));
}

hl_fb_ref hl_fb_create_vector(hl_fb_builder *b, const void *data, size_t count, size_t elem_size) {
  size_t bytes = count * elem_size;
  if (count > UINT32_MAX || bytes / (elem_size ? elem_size : 1) != count) { b->failed = true; return 0; }
  prealign(b, bytes, elem_size > 4 ? elem_size : 4);
  uint8_t *p = grow(b, bytes);
  if (p && bytes) memcpy(p, data, bytes);
  push32(b, (uint32_t)count);
  return (hl_fb_ref)b->used;
}

hl_fb_ref hl_fb_create_string(hl_fb_builder *b, const char *s, size_t len) {
  if (len >= UINT32_MAX) { b->failed = true; return 0; }
  prealign(b, len + 1, 4);
  uint8_t *p = grow(b, len + 1);
  if (p) {
    if (len) memcpy(p, s, len);
    p[len] = 0;
  }
  push32(b, (uint32_t)len);
  return (hl_fb_ref)b->used;
}

hl_fb_ref hl_fb_create_ref_vector(hl_fb_builder *b, const hl_fb_ref *refs, size_t count) {
  prealign(b, 4 * count, 4);
  /* Elements are prepended last to first so element 0 ends up first. */
  for (size_t i = count; i-- > 0;) push_ref(b, refs[i]);
  push32(b, (uint32_t)count);
  return (hl_fb_ref)b->used;
}

void hl_fb_start_table(hl_fb_builder *b) {
  b->in_table = true;
  b->table_start = b->used;
  b->field_count = 0;
  __builtin_memset(b->field_at, 0, sizeof b->field_at);
}

static void note_field(hl_fb_builder *b, unsigned id) {
  if (id >= HL_FB_MAX_FIELDS || !b->in_table) { b->failed = true; return; }
  b->field_at[id] = (hl_fb_ref)b->used;
  if (id + 1 > b->field_count) b->field_count = id + 1;
}

void hl_fb_add_scalar(hl_fb_builder *b, unsigned id, const void *value, size_t size) {
  prealign(b, size, size);
  uint8_t *p = grow(b, size);
  if (p) copy_scalar(p, value, size);
  note_field(b, id);
}

void hl_fb_add_ref(hl_fb_builder *b, unsigned id, hl_fb_ref ref) {
  push_ref(b, ref);
  note_field(b, id);
}

hl_fb_ref hl_fb_end_table(hl_fb_builder *b) {
  /* Table: [soffset to vtable][fields...]; the vtable is prepended just
   * before it: [vtable bytes][table bytes][field offsets...]. */
  prealign(b, 4, 4);
  push32(b, 0); /* soffset placeholder */
  hl_fb_ref table = (hl_fb_ref)b->used;
  size_t table_size = b->used - b->table_start;
  size_t vt_size = 4 + 2 * (size_t)b->field_count;
  uint8_t *vt = grow(b, vt_size);
  b->in_table = false;
  if (!vt || table_size > UINT16_MAX) { b->failed = true; return 0; }
  wr16(vt, (uint16_t)vt_size);
  wr16(vt + 2, (uint16_t)table_size);
  for (unsigned i = 0; i < b->field_count; i++) {
    uint16_t off = b->field_at[i] ? (uint16_t)(table - b->field_at[i]) : 0;
    wr16(vt + 4 + 2 * i, off);
  }
  /* soffset = table position - vtable position (vtable lies before it). */
  int32_t soff = (int32_t)(b->used - table);
  wr32(b->region + b->cap - table, (uint32_t)soff);
  return table;
}

size_t hl_fb_finish(hl_fb_builder *b, hl_fb_ref root) {
  /* root offset + size prefix, then pad so the whole thing is aligned. */
  prealign(b, 8, b->max_align);
  push_ref(b, root);
  push32(b, (uint32_t)b->used); /* the prefix counts the bytes after itself */
  if (b->failed) return 0;
  memmove(b->region, b->region + b->cap - b->used, b->used);
  return b->used;
}
