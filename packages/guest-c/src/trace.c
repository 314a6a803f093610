/*
 * Guest tracing: records appended to the PEB's trace area exactly as
 * docs/tracing-format.md lays them out.
 *
 *   entry: reset -> PEB checked -> settings copied from the area's header,
 *          span ids from 1, RUN_START (when any flag is set)
 *   run:   spans, events, fields, ALLOC/FREE appended at `used`; a record
 *          that does not fit exits once with TRACE_FLUSH (the host drains
 *          and resets `used`), then it is counted in `lost`
 *   end:   the runtime closes the spans still open before HALT or ABORT
 *
 * The settings are copied (and checked) once per entry, so the guest writing
 * over its own area's header changes nothing until the next run. `used` is
 * read fresh before every append: the host resets it at every exit. Records
 * are built in one static buffer and copied in whole, so a record is either
 * all there or not at all; nothing here allocates (the allocator calls in).
 * Fixed-size copies use __builtin_memcpy (one move; see fb.c).
 */
#include <stdio.h>
#include <string.h>

#include "runtime.h"
#include "trace_rt.h"

#define WHOLE ((size_t)-1) /* a string length meaning "NUL-terminated" */
#define MAX_TARGET_SIZE 255u
#define MAX_KEY_SIZE 255u
#define MAX_FIELDS 255u
#define NAMED_BODY_SIZE 8u   /* u32 parent, u16 name length, u8 target length, u8 field count */
#define FIELD_HEADER_SIZE 4u /* u8 type, u8 key length, u16 value length */
#define MEMORY_BODY_SIZE 24u /* u64 address, u64 size, u16 frame count, u16 + u32 reserved */
/* The target of the runtime's own spans. */
#define RUNTIME_TARGET "hyperlight_guest"

uint8_t hl_trace_min_level = HL_LOG_OFF;
uint8_t hl_rt_trace_flags;

/* The current run's settings and span stack. */
static struct {
  uint8_t *area;     /* the trace area; NULL when the run has none */
  uint32_t capacity; /* bytes for records after the header */
  uint8_t level;     /* level where no filter entry matches */
  uint8_t filter_count;
  uint8_t filter[HL_TRACE_FILTER_CAPACITY]; /* checked copy: u8 level, u8 length, prefix bytes */
  char traceparent[HL_TRACE_TRACEPARENT_CAPACITY + 1];
  uint64_t stack_lo, stack_size; /* the guest stack: the only memory a stack walk reads */
  uint32_t next_id;
  unsigned depth;
  uint32_t open[HL_TRACE_MAX_OPEN_SPANS];
} t;

static uint8_t record[HL_TRACE_MAX_RECORD_SIZE] __attribute__((aligned(8)));
static char message[HL_TRACE_MAX_NAME_SIZE + 4]; /* + room to see where a character was cut */

/* ---- the area's counters (read fresh: the host changes them at every exit) ---- */

static uint32_t load_u32(size_t offset) { return *(volatile uint32_t *)(t.area + offset); }
static void store_u32(size_t offset, uint32_t v) { *(volatile uint32_t *)(t.area + offset) = v; }

static void count_lost(void) {
  uint32_t lost = load_u32(HL_TRACE_OFFSET_LOST);
  if (lost != UINT32_MAX) store_u32(HL_TRACE_OFFSET_LOST, lost + 1);
}

/* ---- settings ----------------------------------------------------------------- */

void hl_rt_trace_reset(void) {
  hl_trace_min_level = HL_LOG_OFF;
  hl_rt_trace_flags = 0;
  t.area = NULL;
  t.depth = 0;
  t.filter_count = 0;
  t.traceparent[0] = 0;
}

/* Copies the filter if every entry lies inside its capacity and has a level. */
static bool take_filter(const uint8_t *header, uint8_t *min_level) {
  const uint8_t *filter = header + HL_TRACE_OFFSET_FILTER;
  size_t at = 0;
  for (unsigned i = 0; i < header[HL_TRACE_OFFSET_FILTER_COUNT]; i++) {
    if (HL_TRACE_FILTER_CAPACITY - at < 2) return false;
    uint8_t level = filter[at], length = filter[at + 1];
    if (level > HL_LOG_OFF || HL_TRACE_FILTER_CAPACITY - at - 2 < length) return false;
    if (level < *min_level) *min_level = level;
    at += 2u + length;
  }
  memcpy(t.filter, filter, at);
  t.filter_count = header[HL_TRACE_OFFSET_FILTER_COUNT];
  return true;
}

static size_t begin_record(uint8_t kind, uint8_t level, uint32_t span);
static bool commit(size_t size);

void hl_rt_trace_begin(const hl_peb *peb, uint64_t op) {
  hl_rt_trace_reset();
  uint64_t gva = peb->trace_gva, size = peb->trace_size;
  if (size < HL_TRACE_HEADER_SIZE || size > UINT32_MAX || !gva || (gva & 7) || gva + size < gva) return;
  const uint8_t *header = (const uint8_t *)(uintptr_t)gva;
  uint8_t level = header[HL_TRACE_OFFSET_LEVEL], min_level = level;
  uint8_t flags = header[HL_TRACE_OFFSET_FLAGS] &
                  (HL_TRACE_FLAG_ENABLED | HL_TRACE_FLAG_RUNTIME_SPANS | HL_TRACE_FLAG_MEMORY);
  uint8_t tp_length = header[HL_TRACE_OFFSET_TRACEPARENT_LENGTH];
  if (level > HL_LOG_OFF || tp_length > HL_TRACE_TRACEPARENT_CAPACITY || !take_filter(header, &min_level)) return;
  memcpy(t.traceparent, header + HL_TRACE_OFFSET_TRACEPARENT, tp_length);
  t.traceparent[tp_length] = 0;
  t.area = (uint8_t *)(uintptr_t)gva;
  t.capacity = (uint32_t)(size - HL_TRACE_HEADER_SIZE);
  t.level = level;
  bool stack_ok = peb->stack_gva + peb->stack_size >= peb->stack_gva;
  t.stack_lo = stack_ok ? peb->stack_gva : 0;
  t.stack_size = stack_ok ? peb->stack_size : 0;
  t.next_id = 1;
  hl_rt_trace_flags = flags;
  hl_trace_min_level = flags & HL_TRACE_FLAG_ENABLED ? min_level : HL_LOG_OFF;
  if (flags) {
    size_t at = begin_record(HL_TRACE_KIND_RUN_START, 0, 0);
    uint32_t body[2] = {(uint32_t)op, 0};
    __builtin_memcpy(record + at, body, sizeof body);
    commit(at + sizeof body);
  }
}

/* Level `level` at `target` is recorded: below the host's level for the
 * longest filter prefix `target` starts with (else its default level). */
static bool passes(unsigned level, const char *target) {
  if (level >= HL_LOG_OFF || level < hl_trace_min_level) return false;
  if (!target) target = "";
  size_t target_len = strnlen(target, MAX_TARGET_SIZE + 1);
  unsigned effective = t.level;
  bool found = false;
  size_t best = 0;
  const uint8_t *entry = t.filter;
  for (unsigned i = 0; i < t.filter_count; i++, entry += 2u + entry[1]) {
    size_t n = entry[1];
    if (n <= target_len && (!found || n > best) && !memcmp(entry + 2, target, n)) {
      effective = entry[0];
      best = n;
      found = true;
    }
  }
  return level >= effective;
}

bool hl_trace_enabled(hl_log_level level, const char *target) {
  return (unsigned)level >= hl_trace_min_level && passes(level, target);
}

const char *hl_trace_traceparent(void) { return t.area && t.traceparent[0] ? t.traceparent : NULL; }

/* ---- building and appending records --------------------------------------------------- */

static size_t begin_record(uint8_t kind, uint8_t level, uint32_t span) {
  record[0] = kind;
  record[1] = level;
  __builtin_memcpy(record + 4, &span, 4);
  return HL_TRACE_RECORD_HEADER_SIZE;
}

/* Appends the `size` bytes built in `record`, padded to 8, stamped now. */
static bool commit(size_t size) {
  uint16_t size16 = (uint16_t)size;
  size_t padded = (size + HL_TRACE_RECORD_ALIGNMENT - 1) & ~(size_t)(HL_TRACE_RECORD_ALIGNMENT - 1);
  __builtin_memcpy(record + 2, &size16, 2);
  for (bool flushed = false;; flushed = true) {
    uint32_t used = load_u32(HL_TRACE_OFFSET_USED);
    /* A `used` the guest never wrote (scribbled over) counts as full. */
    if (used <= t.capacity && !(used & 7) && padded <= t.capacity - used) {
      uint64_t tsc = __builtin_ia32_rdtsc();
      __builtin_memcpy(record + 8, &tsc, 8);
      uint8_t *at = t.area + HL_TRACE_HEADER_SIZE + used;
      memcpy(at, record, size);
      memset(at + size, 0, padded - size);
      store_u32(HL_TRACE_OFFSET_USED, used + (uint32_t)padded);
      return true;
    }
    if (flushed || padded > t.capacity) break; /* an empty area would not hold it either */
    hl_outl(HL_PORT_TRACE_FLUSH, 0);
  }
  count_lost();
  return false;
}

/* Bytes of `s` to keep: at most `max`, ending on a UTF-8 boundary. */
static size_t kept(const char *s, size_t len, size_t max) {
  if (!s) return 0;
  if (len == WHOLE) len = strnlen(s, max + 1);
  return hl_rt_utf8_cut(s, len, max);
}

static size_t put(size_t at, const void *bytes, size_t n) {
  if (n) memcpy(record + at, bytes, n);
  return at + n;
}

/* A named body at `at`: parent, name, target, then the fields that fit. */
static size_t put_named(size_t at, uint32_t parent, const char *name, size_t name_len, const char *target,
                        const hl_trace_field *fields, size_t field_count) {
  size_t body = at;
  uint16_t name_size = (uint16_t)kept(name, name_len, HL_TRACE_MAX_NAME_SIZE);
  uint8_t target_size = (uint8_t)kept(target, WHOLE, MAX_TARGET_SIZE);
  __builtin_memcpy(record + at, &parent, 4);
  __builtin_memcpy(record + at + 4, &name_size, 2);
  record[at + 6] = target_size;
  at = put(at + NAMED_BODY_SIZE, name, name_size);
  at = put(at, target, target_size);
  unsigned count = 0;
  for (size_t i = 0; fields && i < field_count && count < MAX_FIELDS; i++) {
    const hl_trace_field *f = &fields[i];
    const void *value = &f->as;
    uint8_t flag = f->as.b;
    size_t value_size;
    switch (f->type) {
      case HL_TRACE_FIELD_STRING:
        value = f->as.str.data;
        value_size = kept(f->as.str.data, f->as.str.len, HL_TRACE_MAX_STRING_VALUE_SIZE);
        break;
      case HL_TRACE_FIELD_I64:
      case HL_TRACE_FIELD_U64:
      case HL_TRACE_FIELD_F64: value_size = 8; break;
      case HL_TRACE_FIELD_BOOL:
        value = &flag;
        value_size = 1;
        break;
      default: continue;
    }
    size_t key_size = kept(f->key, WHOLE, MAX_KEY_SIZE);
    if (FIELD_HEADER_SIZE + key_size + value_size > HL_TRACE_MAX_RECORD_SIZE - at) continue; /* left out */
    uint16_t value_size16 = (uint16_t)value_size;
    record[at] = f->type;
    record[at + 1] = (uint8_t)key_size;
    __builtin_memcpy(record + at + 2, &value_size16, 2);
    at = put(put(at + FIELD_HEADER_SIZE, f->key, key_size), value, value_size);
    count++;
  }
  record[body + 7] = (uint8_t)count;
  return at;
}

static uint32_t innermost(void) { return t.depth ? t.open[t.depth - 1] : 0; }

static int open_index(hl_trace_span span) {
  for (unsigned i = t.depth; span && i-- > 0;)
    if (t.open[i] == span) return (int)i;
  return -1;
}

/* ---- spans and events ------------------------------------------------------------------ */

hl_trace_span hl_trace_span_open(hl_log_level level, const char *name, const char *target, const hl_trace_field *fields,
                                 size_t field_count) {
  if (!passes((unsigned)level, target)) return 0;
  if (t.depth == HL_TRACE_MAX_OPEN_SPANS) {
    count_lost();
    return 0;
  }
  uint32_t id = t.next_id;
  size_t at = begin_record(HL_TRACE_KIND_SPAN_OPEN, (uint8_t)level, id);
  if (!commit(put_named(at, innermost(), name, WHOLE, target, fields, field_count))) return 0;
  t.next_id = id + 1 ? id + 1 : 1;
  t.open[t.depth++] = id;
  return id;
}

void hl_trace_span_close(hl_trace_span span) {
  int i = open_index(span);
  if (i < 0) return;
  /* Usually the innermost; one closed out of order leaves the others open. */
  memmove(&t.open[i], &t.open[i + 1], (t.depth - (unsigned)i - 1) * sizeof t.open[0]);
  t.depth--;
  commit(begin_record(HL_TRACE_KIND_SPAN_CLOSE, 0, span));
}

void hl_trace_span_record(hl_trace_span span, const hl_trace_field *fields, size_t field_count) {
  if (open_index(span) < 0) return;
  size_t at = begin_record(HL_TRACE_KIND_SPAN_FIELDS, 0, span);
  commit(put_named(at, 0, NULL, 0, NULL, fields, field_count));
}

void hl_trace_vevent(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                     const char *fmt, va_list ap) {
  if (!passes((unsigned)level, target)) return;
  int n = vsnprintf(message, sizeof message, fmt ? fmt : "", ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
  size_t at = begin_record(HL_TRACE_KIND_EVENT, (uint8_t)level, innermost());
  commit(put_named(at, 0, message, hl_rt_utf8_cut(message, len, HL_TRACE_MAX_NAME_SIZE), target, fields, field_count));
}

void hl_trace_event(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hl_trace_vevent(level, target, fields, field_count, fmt, ap);
  va_end(ap);
}

void hl_rt_trace_close_all(void) {
  while (t.depth) hl_trace_span_close(t.open[t.depth - 1]);
}

hl_trace_span hl_rt_trace_runtime_span(const char *name, const char *function, size_t len) {
  if (!(hl_rt_trace_flags & HL_TRACE_FLAG_RUNTIME_SPANS)) return 0;
  hl_trace_field field = HL_FIELD_STR_N("function", function, len);
  return hl_trace_span_open(HL_LOG_INFO, name, RUNTIME_TARGET, &field, function ? 1 : 0);
}

/* ---- memory ------------------------------------------------------------------------------ */

/* Return addresses up the rbp chain from `frame`, innermost first. Only
 * frames inside the guest stack are read, and each must lie above the last,
 * so a chain broken by code without frame pointers ends the walk instead of
 * faulting or looping. */
static uint16_t walk_stack(uint8_t *out, void *const *frame) {
  uint16_t n = 0;
  for (uintptr_t fp = (uintptr_t)frame; n < HL_TRACE_MAX_FRAMES;) {
    if ((fp & 7) || fp < t.stack_lo || t.stack_size < 16 || fp - t.stack_lo > t.stack_size - 16) break;
    const uint64_t *f = (const uint64_t *)fp;
    if (!f[1]) break;
    __builtin_memcpy(out + 8u * n++, &f[1], 8);
    if (f[0] <= fp) break;
    fp = (uintptr_t)f[0];
  }
  return n;
}

void hl_rt_trace_memory(uint8_t kind, const void *address, size_t size, void *const *frame) {
  size_t at = begin_record(kind, 0, innermost());
  uint64_t fixed[3] = {(uint64_t)(uintptr_t)address, size, 0};
  __builtin_memcpy(record + at, fixed, sizeof fixed);
  uint16_t frames = walk_stack(record + at + MEMORY_BODY_SIZE, frame);
  __builtin_memcpy(record + at + 16, &frames, 2);
  commit(at + MEMORY_BODY_SIZE + 8u * frames);
}
