/*
 * Guest tracing end to end in the host emulator: the fixture
 * fixtures/guests/c/tracedguest ($HL_TRACEDGUEST, built with HL_TRACE and
 * frame pointers) and test/guests/trace_probe.c ($HL_TRACE_PROBE, built
 * without HL_TRACE) write records that are checked byte for byte against
 * docs/tracing-format.md. Every drained batch also goes through a strict
 * validator that applies the host's acceptance rules.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host_emulator.h"

#define AREA_SIZE (64u * 1024u)
#define ALL_FLAGS (HL_TRACE_FLAG_ENABLED | HL_TRACE_FLAG_RUNTIME_SPANS | HL_TRACE_FLAG_MEMORY)

/* ---- the records of one run ------------------------------------------------------------ */

typedef struct rec {
  const uint8_t *p; /* the record's bytes in `trace.bytes` */
  uint8_t kind, level;
  uint16_t size;
  uint32_t span;
  uint64_t tsc;
} rec;

/* A copy of one run's records (the emulator reuses its buffer on the next run). */
static struct {
  uint8_t bytes[1 << 20];
  size_t len;
  rec r[16384];
  size_t n;
  uint64_t lost;
  unsigned flushes, exits;
} tr;

static uint16_t u16_at(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t u32_at(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t u64_at(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static bool utf8_ok(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i], more = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (more == 9 || i + more >= n) return false;
    for (unsigned k = 1; k <= more; k++)
      if ((s[i + k] & 0xC0) != 0x80) return false;
    i += more + 1;
  }
  return true;
}

/* The host's acceptance rules for one record's body; NULL when it passes. */
static const char *invalid_body(const rec *r) {
  const uint8_t *p = r->p, *end = p + r->size;
  switch (r->kind) {
    case HL_TRACE_KIND_SPAN_OPEN:
    case HL_TRACE_KIND_EVENT:
    case HL_TRACE_KIND_SPAN_FIELDS: {
      if (r->kind == HL_TRACE_KIND_SPAN_FIELDS ? r->level != 0 : r->level >= HL_LOG_OFF) return "bad level";
      if (r->kind == HL_TRACE_KIND_SPAN_OPEN && r->span == 0) return "span open with id 0";
      if (r->size < 24) return "named body too short";
      uint32_t parent = u32_at(p + 16);
      size_t name = u16_at(p + 20), target = p[22], fields = p[23];
      if (r->kind != HL_TRACE_KIND_SPAN_OPEN && parent) return "parent set outside SPAN_OPEN";
      if (name > HL_TRACE_MAX_NAME_SIZE) return "name too long";
      const uint8_t *at = p + 24;
      if ((size_t)(end - at) < name + target || !utf8_ok(at, name) || !utf8_ok(at + name, target)) return "bad name/target";
      if (r->kind == HL_TRACE_KIND_SPAN_FIELDS && (name || target)) return "SPAN_FIELDS with a name";
      at += name + target;
      for (size_t i = 0; i < fields; i++) {
        if (end - at < 4) return "field header past the end";
        uint8_t type = at[0], key = at[1];
        uint16_t value = u16_at(at + 2);
        at += 4;
        if ((size_t)(end - at) < (size_t)key + value || !utf8_ok(at, key)) return "bad field key";
        if (type == HL_TRACE_FIELD_STRING ? value > HL_TRACE_MAX_STRING_VALUE_SIZE || !utf8_ok(at + key, value)
            : type == HL_TRACE_FIELD_BOOL ? value != 1 || at[key] > 1
            : type >= HL_TRACE_FIELD_I64 && type <= HL_TRACE_FIELD_F64 ? value != 8
                                                                        : true)
          return "bad field value";
        at += key + value;
      }
      return at == end ? NULL : "lengths do not add up";
    }
    case HL_TRACE_KIND_SPAN_CLOSE: return r->level || r->size != 16 ? "bad SPAN_CLOSE" : NULL;
    case HL_TRACE_KIND_ALLOC:
    case HL_TRACE_KIND_FREE:
      if (r->level || r->size < 40 || u16_at(p + 34) || u32_at(p + 36)) return "bad memory body";
      return u16_at(p + 32) > HL_TRACE_MAX_FRAMES || r->size != 40 + 8u * u16_at(p + 32) ? "bad frame count" : NULL;
    case HL_TRACE_KIND_RUN_START:
      return r->level || r->span || r->size != 24 || u32_at(p + 16) > HL_OP_CALL || u32_at(p + 20) ? "bad RUN_START" : NULL;
    default: return "unknown kind";
  }
}

/* Copies and checks a run's records: sizes, 8-byte steps, zero padding,
 * valid bodies, time stamps that never go backwards. */
static void capture(const emu_run *run) {
  memcpy(tr.bytes, run->trace, run->trace_len);
  tr.len = run->trace_len;
  tr.lost = run->trace_lost;
  tr.flushes = run->trace_flushes;
  tr.exits = run->exits;
  tr.n = 0;
  uint64_t last_tsc = 0;
  for (size_t at = 0; at < tr.len;) {
    rec r = {tr.bytes + at, tr.bytes[at], tr.bytes[at + 1], u16_at(tr.bytes + at + 2), u32_at(tr.bytes + at + 4),
             u64_at(tr.bytes + at + 8)};
    size_t padded = ((size_t)r.size + 7) & ~(size_t)7;
    const char *bad = r.size < 16 || r.size > HL_TRACE_MAX_RECORD_SIZE || padded > tr.len - at ? "bad size" : invalid_body(&r);
    for (size_t i = r.size; !bad && i < padded; i++)
      if (tr.bytes[at + i]) bad = "padding not zero";
    if (!bad && r.tsc < last_tsc) bad = "time went backwards";
    if (bad) {
      CHECK(0, "record %zu (kind %u) at offset %zu: %s", tr.n, r.kind, at, bad);
      return;
    }
    last_tsc = r.tsc;
    if (tr.n < sizeof tr.r / sizeof tr.r[0]) tr.r[tr.n++] = r;
    at += padded;
  }
}

static uint32_t parent_of(const rec *r) { return u32_at(r->p + 16); }
static size_t name_len(const rec *r) { return u16_at(r->p + 20); }
static size_t target_len(const rec *r) { return r->p[22]; }
static unsigned field_count(const rec *r) { return r->p[23]; }
static bool named(const rec *r, const char *name) {
  return name_len(r) == strlen(name) && !memcmp(r->p + 24, name, name_len(r));
}
static bool targeted(const rec *r, const char *target) {
  return target_len(r) == strlen(target) && !memcmp(r->p + 24 + name_len(r), target, target_len(r));
}

typedef struct field {
  uint8_t type;
  const uint8_t *key, *value;
  size_t key_len, value_len;
} field;

/* Field `i` of a named record. */
static field field_at(const rec *r, unsigned i) {
  const uint8_t *at = r->p + 24 + name_len(r) + target_len(r);
  field f = {0};
  for (unsigned k = 0; k <= i; k++) {
    f = (field){at[0], at + 4, at + 4 + at[1], at[1], u16_at(at + 2)};
    at += 4 + f.key_len + f.value_len;
  }
  return f;
}

static bool field_is_i64(const rec *r, unsigned i, const char *key, int64_t v) {
  field f = field_at(r, i);
  return f.type == HL_TRACE_FIELD_I64 && f.key_len == strlen(key) && !memcmp(f.key, key, f.key_len) &&
         (int64_t)u64_at(f.value) == v;
}

static bool field_is_str(const rec *r, unsigned i, const char *key, const char *v) {
  field f = field_at(r, i);
  return f.type == HL_TRACE_FIELD_STRING && f.key_len == strlen(key) && !memcmp(f.key, key, f.key_len) &&
         f.value_len == strlen(v) && !memcmp(f.value, v, f.value_len);
}

/* Records of one kind, in order. */
static size_t of_kind(uint8_t kind, const rec **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < tr.n; i++)
    if (tr.r[i].kind == kind && n < max) out[n++] = &tr.r[i];
  return n;
}

/* ---- guests and settings --------------------------------------------------------------- */

/* The trace header: `filter` is "prefix=level,prefix=level" (NULL for none). */
static void settings(emu_guest *g, uint8_t level, uint8_t flags, const char *filter, const char *traceparent) {
  uint8_t *h = emu_trace_header(g);
  memset(h, 0, HL_TRACE_HEADER_SIZE);
  h[HL_TRACE_OFFSET_LEVEL] = level;
  h[HL_TRACE_OFFSET_FLAGS] = flags;
  size_t at = HL_TRACE_OFFSET_FILTER;
  for (const char *f = filter; f && *f;) {
    const char *eq = strchr(f, '='), *comma = strchr(f, ',');
    h[at] = (uint8_t)atoi(eq + 1);
    h[at + 1] = (uint8_t)(eq - f);
    memcpy(h + at + 2, f, (size_t)(eq - f));
    at += 2 + (size_t)(eq - f);
    h[HL_TRACE_OFFSET_FILTER_COUNT]++;
    f = comma ? comma + 1 : "";
  }
  if (traceparent) {
    h[HL_TRACE_OFFSET_TRACEPARENT_LENGTH] = (uint8_t)strlen(traceparent);
    memcpy(h + HL_TRACE_OFFSET_TRACEPARENT, traceparent, strlen(traceparent));
  }
}

/* Loads a guest with a trace area of `area` bytes, sets `flags` at Trace level, runs OP_INIT. */
static emu_guest *start_with(const char *env, size_t area, uint8_t flags) {
  emu_config c = {.trace_size = area};
  emu_guest *g = emu_load(getenv(env), &c);
  if (!g) {
    CHECK(0, "cannot load $%s", env);
    return NULL;
  }
  if (area) settings(g, HL_LOG_TRACE, flags, NULL, NULL);
  const emu_run *r = emu_enter(g, HL_OP_INIT, 5000);
  capture(r);
  if (r->kind != EMU_HALT) {
    CHECK(0, "OP_INIT ended with kind %d: %s", r->kind, r->abort_message);
    emu_free(g);
    return NULL;
  }
  return g;
}

static emu_guest *start(uint8_t flags) { return start_with("HL_TRACEDGUEST", AREA_SIZE, flags); }

/* Calls a guest function and captures its run's records; the result's value (or 0x7fffffff). */
static int64_t call(emu_guest *g, const char *fn, hl_type ret, size_t argc, const hl_value *args) {
  hl_result res;
  const emu_run *run = NULL;
  bool ok = emu_call(g, fn, ret, argc, args, &res, &run);
  capture(run);
  if (!ok || res.error) {
    CHECK(0, "%s failed: run kind %d, %s", fn, run->kind, ok ? res.message : run->abort_message);
    return 0x7fffffff;
  }
  return ret == HL_TYPE_I32 ? res.value.as.i32 : ret == HL_TYPE_BOOL ? res.value.as.boolean : 0;
}

static int64_t call_i32(emu_guest *g, const char *fn, int32_t arg) {
  hl_value v = hl_i32(arg);
  return call(g, fn, HL_TYPE_I32, 1, &v);
}

static int64_t call0(emu_guest *g, const char *fn) { return call(g, fn, HL_TYPE_I32, 0, NULL); }

/* The string a host function last received, and the host function. */
static char host_received[256];
static hl_result trace_echo(const hl_value *args, size_t argc) {
  snprintf(host_received, sizeof host_received, "%.*s", argc ? (int)args[0].as.string.len : 0,
           argc ? args[0].as.string.data : "");
  return hl_ok(hl_string("echoed"));
}
__attribute__((constructor)) static void register_hosts(void) { emu_register_host("TraceEcho", trace_echo); }

/* A symbol's [start, end) in the loaded image, from the ELF's .symtab. */
static bool symbol(emu_guest *g, const char *path, const char *name, uintptr_t *lo, uintptr_t *hi) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  static uint8_t file[4 << 20];
  size_t size = fread(file, 1, sizeof file, f);
  fclose(f);
  const Elf64_Ehdr *eh = (const Elf64_Ehdr *)file;
  const Elf64_Shdr *sh = (const Elf64_Shdr *)(file + eh->e_shoff);
  uintptr_t base, end;
  emu_image_range(g, &base, &end);
  for (int i = 0; i < eh->e_shnum && eh->e_shoff + (i + 1) * sizeof *sh <= size; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *sym = (const Elf64_Sym *)(file + sh[i].sh_offset);
    const char *strings = (const char *)file + sh[sh[i].sh_link].sh_offset;
    for (size_t k = 0; k < sh[i].sh_size / sizeof *sym; k++)
      if (!strcmp(strings + sym[k].st_name, name)) {
        *lo = base + sym[k].st_value;
        *hi = *lo + sym[k].st_size;
        return true;
      }
  }
  return false;
}

/* ---- off --------------------------------------------------------------------------------- */

TEST(trace_off_records_nothing_and_costs_no_exit) {
  for (int no_area = 0; no_area < 2; no_area++) {
    emu_guest *g = start_with("HL_TRACEDGUEST", no_area ? 0 : AREA_SIZE, 0);
    if (!g) return;
    CHECK(tr.len == 0 && tr.exits == 1, "init: %zu bytes, %u exits", tr.len, tr.exits);
    const char *fns[] = {"Nested", "Fill", "AllocPattern", "FieldTypes", "EchoI32"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
      hl_value arg = hl_i32(500);
      bool takes_arg = !strcmp(fns[i], "Nested") || !strcmp(fns[i], "Fill") || !strcmp(fns[i], "EchoI32");
      call(g, fns[i], HL_TYPE_I32, takes_arg, &arg);
      CHECK(tr.len == 0 && tr.lost == 0 && tr.exits == 1 && tr.flushes == 0, "%s (area %d): %zu bytes, %u exits",
            fns[i], !no_area, tr.len, tr.exits);
    }
    emu_free(g);
  }
}

/* ---- record layout ------------------------------------------------------------------------ */

TEST(trace_run_start_bytes) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  CHECK(tr.n == 1 && tr.r[0].kind == HL_TRACE_KIND_RUN_START && u32_at(tr.r[0].p + 16) == HL_OP_INIT,
        "init: %zu records", tr.n);
  CHECK(call_i32(g, "EchoI32", 7) == 7, "EchoI32");
  static const uint8_t want_head[8] = {HL_TRACE_KIND_RUN_START, 0, 24, 0, 0, 0, 0, 0};
  static const uint8_t want_body[8] = {HL_OP_CALL, 0, 0, 0, 0, 0, 0, 0};
  CHECK(tr.n == 1 && tr.len == 24 && !memcmp(tr.bytes, want_head, 8) && !memcmp(tr.bytes + 16, want_body, 8) &&
            tr.r[0].tsc != 0 && tr.exits == 1,
        "EchoI32: %zu records, %zu bytes", tr.n, tr.len);
  emu_free(g);
}

TEST(trace_field_types_bytes) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  CHECK(call0(g, "FieldTypes") == 0, "FieldTypes");
  /* RUN_START, the span, six events, the close. */
  CHECK(tr.n == 9, "%zu records", tr.n);
  if (tr.n != 9) return emu_free(g);
  static const uint8_t want[] = {
      HL_TRACE_KIND_SPAN_OPEN, HL_LOG_INFO, 95, 0, 1, 0, 0, 0, /* kind, level, size 95, span 1 */
      0, 0, 0, 0, 0, 0, 0, 0,                                   /* tsc (not compared) */
      0, 0, 0, 0, 6, 0, 11, 5,                                  /* parent 0, name 6, target 11, 5 fields */
      'f', 'i', 'e', 'l', 'd', 's', 't', 'r', 'a', 'c', 'e', 'd', 'g', 'u', 'e', 's', 't',
      HL_TRACE_FIELD_STRING, 1, 4, 0, 's', 't', 'e', 'x', 't',
      HL_TRACE_FIELD_I64, 1, 8, 0, 'i', 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      HL_TRACE_FIELD_U64, 1, 8, 0, 'u', 7, 0, 0, 0, 0, 0, 0, 0,
      HL_TRACE_FIELD_F64, 1, 8, 0, 'f', 0, 0, 0, 0, 0, 0, 0xf8, 0x3f, /* 1.5 */
      HL_TRACE_FIELD_BOOL, 1, 1, 0, 'b', 1,
      0, /* padding to 96 */
  };
  const rec *open = &tr.r[1];
  CHECK(sizeof want == 96 && !memcmp(open->p, want, 8) && !memcmp(open->p + 16, want + 16, sizeof want - 16),
        "the span's bytes differ");
  static const char *levels[] = {"trace", "debug", "info", "warn", "error", "critical"};
  for (int i = 0; i < 6; i++) {
    const rec *e = &tr.r[2 + i];
    CHECK(e->kind == HL_TRACE_KIND_EVENT && e->level == i && e->span == 1 && parent_of(e) == 0 && named(e, levels[i]) &&
              targeted(e, "tracedguest::levels") && field_count(e) == 0,
          "event %d", i);
  }
  CHECK(tr.r[8].kind == HL_TRACE_KIND_SPAN_CLOSE && tr.r[8].span == 1, "close");
  emu_free(g);
}

TEST(trace_nested_ids_restart_every_run) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  for (int round = 0; round < 2; round++) {
    CHECK(call_i32(g, "Nested", 3) == 3, "Nested");
    CHECK(tr.n == 8, "round %d: %zu records", round, tr.n);
    if (tr.n != 8) break;
    for (uint32_t i = 0; i < 3; i++) {
      const rec *r = &tr.r[1 + i];
      CHECK(r->kind == HL_TRACE_KIND_SPAN_OPEN && r->span == i + 1 && parent_of(r) == i && named(r, "level") &&
                targeted(r, "tracedguest") && field_count(r) == 1 && field_is_i64(r, 0, "depth", i + 1),
            "round %d: span %u", round, i + 1);
    }
    const rec *e = &tr.r[4];
    CHECK(e->kind == HL_TRACE_KIND_EVENT && e->span == 3 && named(e, "bottom") && field_is_i64(e, 0, "depth", 3), "bottom");
    for (uint32_t i = 0; i < 3; i++)
      CHECK(tr.r[5 + i].kind == HL_TRACE_KIND_SPAN_CLOSE && tr.r[5 + i].span == 3 - i, "close %u", i);
  }
  /* Past HL_TRACE_MAX_OPEN_SPANS: the rest are counted lost, their closes do nothing. */
  CHECK(call_i32(g, "Nested", HL_TRACE_MAX_OPEN_SPANS + 6) == HL_TRACE_MAX_OPEN_SPANS + 6, "Nested deep");
  const rec *opens[128], *closes[128];
  CHECK(of_kind(HL_TRACE_KIND_SPAN_OPEN, opens, 128) == HL_TRACE_MAX_OPEN_SPANS &&
            of_kind(HL_TRACE_KIND_SPAN_CLOSE, closes, 128) == HL_TRACE_MAX_OPEN_SPANS && tr.lost == 6,
        "deep: lost %lu", (unsigned long)tr.lost);
  emu_free(g);
}

/* ---- filtering -------------------------------------------------------------------------------- */

/* FieldTypes under `level`/`filter`: which of the span and the six events were recorded, as a string. */
static const char *field_types_under(uint8_t level, uint8_t flags, const char *filter) {
  static char seen[64];
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return "";
  settings(g, level, flags, filter, NULL);
  call0(g, "FieldTypes");
  seen[0] = 0;
  for (size_t i = 0; i < tr.n; i++) {
    const rec *r = &tr.r[i];
    if (r->kind == HL_TRACE_KIND_SPAN_OPEN) strcat(seen, "S");
    if (r->kind == HL_TRACE_KIND_EVENT) {
      char d[3] = {(char)('0' + r->level), r->span ? '+' : '-', 0}; /* level, inside the span or not */
      strcat(seen, d);
    }
    if (r->kind == HL_TRACE_KIND_RUN_START) strcat(seen, "R");
  }
  emu_free(g);
  return seen;
}

TEST(trace_filter_levels_and_prefixes) {
  struct {
    uint8_t level, flags;
    const char *filter, *want;
  } cases[] = {
      {HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, NULL, "RS0+1+2+3+4+5+"},
      {HL_LOG_WARN, HL_TRACE_FLAG_ENABLED, NULL, "R3-4-5-"},
      {HL_LOG_OFF, HL_TRACE_FLAG_ENABLED, NULL, "R"},
      {HL_LOG_OFF, HL_TRACE_FLAG_ENABLED, "tracedguest::levels=4", "R4-5-"},
      /* The longest matching prefix wins, wherever it stands in the filter. */
      {HL_LOG_OFF, HL_TRACE_FLAG_ENABLED, "tracedguest::levels=5,tracedguest=0", "RS5+"},
      {HL_LOG_OFF, HL_TRACE_FLAG_ENABLED, "tracedguest=0,tracedguest::levels=5", "RS5+"},
      {HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, "tracedguest::levels=6,tracedguest::lev=1", "RS"},
      {HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, "=3,tracedguest::=0", "R0-1-2-3-4-5-"}, /* "" matches all */
      {HL_LOG_TRACE, HL_TRACE_FLAG_MEMORY, NULL, "R"},                                 /* not enabled */
      {HL_LOG_TRACE, 0, "tracedguest=0", ""},
      {HL_LOG_TRACE, 0xF8 | HL_TRACE_FLAG_ENABLED, NULL, "RS0+1+2+3+4+5+"}, /* unknown flags ignored */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *got = field_types_under(cases[i].level, cases[i].flags, cases[i].filter);
    CHECK(!strcmp(got, cases[i].want), "case %zu (%s): got %s, want %s", i, cases[i].filter ? cases[i].filter : "-",
          got, cases[i].want);
  }
}

TEST(trace_bad_area_or_header_records_nothing) {
  /* Each case breaks one thing; the guest must run normally and record nothing. */
  for (int c = 0; c < 6; c++) {
    emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
    if (!g) return;
    hl_peb *peb = emu_peb(g);
    uint8_t *h = emu_trace_header(g);
    emu_peb_writable(g, true);
    if (c == 0) peb->trace_gva += 4;                       /* misaligned */
    if (c == 1) peb->trace_size = HL_TRACE_HEADER_SIZE - 8; /* smaller than the header */
    if (c == 2) peb->trace_size = UINT64_MAX;               /* wraps around */
    if (c == 3) h[HL_TRACE_OFFSET_LEVEL] = 7;               /* no such level */
    if (c == 4) h[HL_TRACE_OFFSET_TRACEPARENT_LENGTH] = HL_TRACE_TRACEPARENT_CAPACITY + 1;
    if (c == 5) { /* a filter entry running past the filter's capacity */
      h[HL_TRACE_OFFSET_FILTER_COUNT] = 2;
      h[HL_TRACE_OFFSET_FILTER + 1] = 200;
      h[HL_TRACE_OFFSET_FILTER + 202 + 1] = 250;
    }
    emu_peb_writable(g, false);
    CHECK(call_i32(g, "Nested", 2) == 2 && tr.len == 0 && tr.exits == 1, "case %d: %zu bytes", c, tr.len);
    emu_free(g);
  }
}

/* ---- the area filling up ------------------------------------------------------------------------ */

TEST(trace_full_area_flushes_once_and_goes_on) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  /* ~256-byte events: 300 of them overflow a 64 KiB area exactly once. */
  CHECK(call_i32(g, "Fill", 300) == 300, "Fill");
  const rec *events[400];
  size_t n = of_kind(HL_TRACE_KIND_EVENT, events, 400);
  CHECK(tr.flushes == 1 && tr.exits == 2 && tr.lost == 0 && n == 300, "%u flushes, %zu events, lost %lu", tr.flushes, n,
        (unsigned long)tr.lost);
  char want[32];
  for (size_t i = 0; i < n; i++) {
    snprintf(want, sizeof want, "fill %zu", i);
    field pad = field_at(events[i], 0);
    if (!named(events[i], want) || pad.value_len != 200) {
      CHECK(0, "event %zu", i);
      break;
    }
  }
  CHECK(call_i32(g, "Fill", 2000) == 2000 && tr.flushes >= 7 && tr.lost == 0 && of_kind(HL_TRACE_KIND_EVENT, events, 1) == 1,
        "Fill 2000: %u flushes", tr.flushes);
  emu_free(g);
}

TEST(trace_record_larger_than_area_is_lost_without_exit) {
  /* 200 bytes of room for records: RUN_START fits, a ~250-byte event never does. */
  emu_guest *g = start_with("HL_TRACEDGUEST", HL_TRACE_HEADER_SIZE + 200, HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  CHECK(call_i32(g, "Fill", 3) == 3 && tr.n == 1 && tr.lost == 3 && tr.flushes == 0 && tr.exits == 1,
        "%zu records, lost %lu, %u flushes", tr.n, (unsigned long)tr.lost, tr.flushes);
  emu_free(g);
}

TEST(trace_hostile_helpers_reach_the_host) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  static const uint8_t junk[] = {9, 9, 9, 9, 1, 2, 3, 4};
  hl_value args[] = {hl_bytes(junk, sizeof junk), hl_i32(8), hl_i32(5)};
  hl_result res;
  const emu_run *run;
  /* The junk lands over the run's RUN_START: the host gets exactly the junk. */
  CHECK(emu_call(g, "RawRecords", HL_TYPE_I32, 3, args, &res, &run) && run->trace_flushes == 1 && run->trace_lost == 5 &&
            run->trace_len == 8 && !memcmp(run->trace, junk, 8),
        "RawRecords: %zu bytes, lost %lu", run->trace_len, (unsigned long)run->trace_lost);
  hl_value bad_used[] = {hl_bytes(junk, sizeof junk), hl_i32(-1), hl_i32(0)};
  CHECK(emu_call(g, "RawRecords", HL_TYPE_I32, 3, bad_used, &res, &run) && run->trace_lost == 1, "a wild used");
  hl_value three = hl_i32(3);
  CHECK(emu_call(g, "RawFlood", HL_TYPE_I32, 1, &three, &res, &run) && run->trace_flushes == 3 &&
            run->trace_len == 3 * (AREA_SIZE - HL_TRACE_HEADER_SIZE),
        "RawFlood: %u flushes", run->trace_flushes);
  /* The guest's own recording survives its scribbling: the next run is clean. */
  CHECK(call_i32(g, "Nested", 1) == 1 && tr.n == 4 && tr.lost == 0, "after the flood");
  emu_free(g);
}

/* ---- runtime spans, traceparent, memory, abort ---------------------------------------------- */

TEST(trace_runtime_spans) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED | HL_TRACE_FLAG_RUNTIME_SPANS);
  if (!g) return;
  CHECK(tr.n == 3 && tr.r[1].kind == HL_TRACE_KIND_SPAN_OPEN && named(&tr.r[1], "guest_init") &&
            targeted(&tr.r[1], "hyperlight_guest") && field_count(&tr.r[1]) == 0 && tr.r[2].kind == HL_TRACE_KIND_SPAN_CLOSE,
        "init: %zu records", tr.n);
  hl_value name = hl_string("TraceEcho");
  call(g, "CallHost", HL_TYPE_STRING, 1, &name);
  const rec *o[8], *c[8];
  size_t opens = of_kind(HL_TRACE_KIND_SPAN_OPEN, o, 8), closes = of_kind(HL_TRACE_KIND_SPAN_CLOSE, c, 8);
  CHECK(opens == 3 && closes == 3, "%zu opens, %zu closes", opens, closes);
  if (opens == 3 && closes == 3) {
    CHECK(named(o[0], "guest_call") && o[0]->span == 1 && field_is_str(o[0], 0, "function", "CallHost"), "guest_call");
    CHECK(named(o[1], "outbound") && parent_of(o[1]) == 1 && targeted(o[1], "tracedguest") &&
              field_is_str(o[1], 0, "function", "TraceEcho"), "outbound");
    const rec *more[2];
    CHECK(of_kind(HL_TRACE_KIND_SPAN_FIELDS, more, 2) == 1 && more[0]->span == 2 && field_at(more[0], 0).type == HL_TRACE_FIELD_U64 &&
              u64_at(field_at(more[0], 0).value) == 6 /* "echoed" */, "reply_bytes");
    CHECK(named(o[2], "host_call") && parent_of(o[2]) == 2 && field_is_str(o[2], 0, "function", "TraceEcho"), "host_call");
    CHECK(c[0]->span == 3 && c[1]->span == 2 && c[2]->span == 1, "closed innermost first");
  }
  /* Runtime spans are spans: the level filter applies to them too. */
  settings(g, HL_LOG_OFF, HL_TRACE_FLAG_ENABLED | HL_TRACE_FLAG_RUNTIME_SPANS, "hyperlight_guest=2", NULL);
  call(g, "CallHost", HL_TYPE_STRING, 1, &name);
  opens = of_kind(HL_TRACE_KIND_SPAN_OPEN, o, 8);
  CHECK(opens == 2 && named(o[0], "guest_call") && named(o[1], "host_call") && parent_of(o[1]) == 1, "filtered: %zu", opens);
  emu_free(g);
}

TEST(trace_traceparent_reaches_the_host) {
  static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  hl_value name = hl_string("TraceEcho");
  settings(g, HL_LOG_INFO, HL_TRACE_FLAG_ENABLED, NULL, tp);
  call(g, "CallHost", HL_TYPE_STRING, 1, &name);
  CHECK(!strcmp(host_received, tp), "got \"%s\"", host_received);
  settings(g, HL_LOG_INFO, HL_TRACE_FLAG_ENABLED, NULL, NULL);
  call(g, "CallHost", HL_TYPE_STRING, 1, &name);
  CHECK(!strcmp(host_received, ""), "none: got \"%s\"", host_received);
  emu_free(g);
}

TEST(trace_memory_records_with_stacks) {
  emu_guest *g = start(HL_TRACE_FLAG_MEMORY);
  if (!g) return;
  const rec *allocs[64], *frees[64];
  CHECK(of_kind(HL_TRACE_KIND_ALLOC, allocs, 64) > 0, "init allocates (the function table)");
  CHECK(call0(g, "AllocPattern") == 0, "AllocPattern");
  size_t na = of_kind(HL_TRACE_KIND_ALLOC, allocs, 64), nf = of_kind(HL_TRACE_KIND_FREE, frees, 64);
  /* The pattern's, in order, between the run memory's (the argument copies, the result). */
  const rec *a[3] = {0}, *f[3] = {0};
  size_t k = 0;
  for (size_t i = 0; i < na && k < 3; i++)
    if (u64_at(allocs[i]->p + 24) == 1000 * (k + 1)) a[k++] = allocs[i];
  CHECK(k == 3, "ALLOC 1000/2000/3000 in order: found %zu", k);
  if (k != 3) return emu_free(g);
  const size_t order[3] = {1, 0, 2}; /* b, a, c */
  k = 0;
  for (size_t i = 0; i < nf && k < 3; i++)
    if (u64_at(frees[i]->p + 16) == u64_at(a[order[k]]->p + 16)) f[k++] = frees[i];
  CHECK(k == 3, "FREE b, a, c: found %zu", k);
  if (k != 3) return emu_free(g);
  const char *path = getenv("HL_TRACEDGUEST"), *names[3] = {"alloc_a", "alloc_b", "alloc_c"};
  uintptr_t plo, phi, lo, hi;
  CHECK(symbol(g, path, "alloc_pattern", &plo, &phi), "no symbol alloc_pattern");
  for (int i = 0; i < 3; i++) {
    CHECK(symbol(g, path, names[i], &lo, &hi), "no symbol %s", names[i]);
    /* The stack starts in malloc (the runtime's), then the site, then its caller. */
    uint16_t frames = u16_at(a[i]->p + 32);
    uint64_t f1 = u64_at(a[i]->p + 48), f2 = u64_at(a[i]->p + 56);
    CHECK(frames >= 4 && f1 > lo && f1 <= hi && f2 > plo && f2 <= phi, "%s: %u frames, %#lx %#lx", names[i], frames,
          (unsigned long)f1, (unsigned long)f2);
    uint64_t size = u64_at(f[i]->p + 24), want = 1000 * (order[i] + 1);
    CHECK(size >= want && size < want + 64, "FREE %d: size %lu for %lu", i, (unsigned long)size, (unsigned long)want);
    uint64_t ff1 = u64_at(f[i]->p + 48);
    CHECK(u16_at(f[i]->p + 32) >= 3 && ff1 > plo && ff1 <= phi, "FREE %d from alloc_pattern", i);
    CHECK(a[i]->span == 0, "no span open (memory only)");
  }
  /* With spans on too, records carry the innermost span: alloc_a's (HL_TRACE_FUNCTION at Debug). */
  settings(g, HL_LOG_TRACE, HL_TRACE_FLAG_MEMORY | HL_TRACE_FLAG_ENABLED, NULL, NULL);
  call0(g, "AllocPattern");
  const rec *o[4];
  CHECK(of_kind(HL_TRACE_KIND_SPAN_OPEN, o, 4) == 1 && named(o[0], "alloc_a") && o[0]->level == HL_LOG_DEBUG,
        "HL_TRACE_FUNCTION span");
  na = of_kind(HL_TRACE_KIND_ALLOC, allocs, 64);
  size_t in_span = 0;
  for (size_t i = 0; i < na; i++) in_span += allocs[i]->span == 1 && u64_at(allocs[i]->p + 24) == 1000;
  CHECK(in_span == 1 && na >= 3, "%zu allocations inside the span", in_span);
  emu_free(g);
}

TEST(trace_abort_closes_open_spans) {
  emu_guest *g = start(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  hl_result res;
  const emu_run *run;
  CHECK(!emu_call(g, "Panic", HL_TYPE_I32, 0, NULL, &res, &run) && run->kind == EMU_ABORT &&
            run->abort_code == HL_ABORT_CODE_PANIC,
        "Panic: kind %d", run->kind);
  capture(run);
  CHECK(tr.n == 5 && named(&tr.r[1], "outer") && named(&tr.r[2], "inner") && parent_of(&tr.r[2]) == 1 &&
            tr.r[3].kind == HL_TRACE_KIND_SPAN_CLOSE && tr.r[3].span == 2 && tr.r[4].kind == HL_TRACE_KIND_SPAN_CLOSE &&
            tr.r[4].span == 1,
        "%zu records", tr.n);
  emu_free(g);
}

/* ---- the probe: edge cases, built without HL_TRACE --------------------------------------------- */

static emu_guest *probe(uint8_t flags) { return start_with("HL_TRACE_PROBE", AREA_SIZE, flags); }

TEST(trace_cuts_at_utf8_boundaries) {
  emu_guest *g = probe(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  call0(g, "Cut");
  CHECK(tr.n == 4, "%zu records", tr.n);
  if (tr.n != 4) return emu_free(g);
  const rec *s = &tr.r[1], *e = &tr.r[2];
  field key = field_at(s, 0), value = field_at(s, 1);
  CHECK(name_len(s) == 1023 && target_len(s) == 254 && key.key_len == 254 && value.value_len == 1022 &&
            value.value[1021] == 'v',
        "span: name %zu, target %zu, key %zu, value %zu", name_len(s), target_len(s), key.key_len, value.value_len);
  CHECK(name_len(e) == 1023 && e->span == 1 && targeted(e, "probe"), "event: message %zu", name_len(e));
  emu_free(g);
}

TEST(trace_fields_that_do_not_fit_are_left_out) {
  emu_guest *g = probe(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  call0(g, "LeftOut");
  const rec *s = &tr.r[1];
  /* 16 + 8 + "many" + "probe" + 4 x (4 + 2 + 1000) + (4 + 2 + 1); the fifth and the bad type are left out. */
  CHECK(tr.n == 3 && s->size == 33 + 4 * 1006 + 7 && field_count(s) == 5 && field_at(s, 3).key[1] == '4' &&
            field_at(s, 4).type == HL_TRACE_FIELD_BOOL,
        "size %u, %u fields", s->size, field_count(s));
  emu_free(g);
}

TEST(trace_span_limit_and_out_of_order_closes) {
  emu_guest *g = probe(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  CHECK(call_i32(g, "Deep", 70) == HL_TRACE_MAX_OPEN_SPANS && tr.lost == 6, "Deep: lost %lu", (unsigned long)tr.lost);
  call0(g, "OutOfOrder");
  /* RUN_START, open a b c, close b, event in c, close c, fields of a, event in a, close a. */
  static const uint8_t kinds[] = {7, 1, 1, 1, 2, 3, 2, 4, 3, 2};
  bool ok = tr.n == sizeof kinds;
  for (size_t i = 0; ok && i < tr.n; i++) ok = tr.r[i].kind == kinds[i];
  CHECK(ok, "%zu records", tr.n);
  if (ok)
    CHECK(tr.r[4].span == 2 && tr.r[5].span == 3 && tr.r[6].span == 3 && tr.r[7].span == 1 && tr.r[8].span == 1 &&
              tr.r[9].span == 1 && field_count(&tr.r[7]) == 1 && name_len(&tr.r[7]) == 0,
          "span ids");
  emu_free(g);
}

TEST(trace_enabled_follows_the_filter) {
  emu_guest *g = probe(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  settings(g, HL_LOG_WARN, HL_TRACE_FLAG_ENABLED, "net=1,net::tls=4", NULL);
  struct {
    int level;
    const char *target;
    bool want;
  } cases[] = {{HL_LOG_WARN, "x", true},      {HL_LOG_INFO, "x", false},        {HL_LOG_DEBUG, "net", true},
               {HL_LOG_TRACE, "net", false},  {HL_LOG_WARN, "net::tls", false}, {HL_LOG_ERROR, "net::tlsx", true},
               {HL_LOG_DEBUG, "ne", false},   {HL_LOG_OFF, "net", false},       {HL_LOG_CRITICAL, "", true}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hl_value args[] = {hl_i32(cases[i].level), hl_string(cases[i].target)};
    CHECK(call(g, "Enabled", HL_TYPE_BOOL, 2, args) == cases[i].want, "case %zu", i);
  }
  settings(g, HL_LOG_TRACE, HL_TRACE_FLAG_RUNTIME_SPANS, NULL, NULL);
  hl_value args[] = {hl_i32(HL_LOG_CRITICAL), hl_string("x")};
  CHECK(call(g, "Enabled", HL_TYPE_BOOL, 2, args) == false, "not enabled without TRACE_FLAG_ENABLED");
  emu_free(g);
}

TEST(trace_realloc_and_calloc_records) {
  emu_guest *g = probe(HL_TRACE_FLAG_MEMORY);
  if (!g) return;
  call0(g, "Reallocate");
  /* The pattern: ALLOC 100 (calloc), FREE it + ALLOC 5000 (realloc), FREE. */
  const rec *m[64];
  size_t n = 0, start = 0;
  for (size_t i = 0; i < tr.n && n < 64; i++)
    if (tr.r[i].kind == HL_TRACE_KIND_ALLOC || tr.r[i].kind == HL_TRACE_KIND_FREE) m[n++] = &tr.r[i];
  while (start < n && !(m[start]->kind == HL_TRACE_KIND_ALLOC && u64_at(m[start]->p + 24) == 100)) start++;
  CHECK(n - start >= 4 && m[start + 1]->kind == HL_TRACE_KIND_FREE && u64_at(m[start + 1]->p + 16) == u64_at(m[start]->p + 16) &&
            m[start + 2]->kind == HL_TRACE_KIND_ALLOC && u64_at(m[start + 2]->p + 24) == 5000 &&
            m[start + 3]->kind == HL_TRACE_KIND_FREE && u64_at(m[start + 3]->p + 16) == u64_at(m[start + 2]->p + 16),
        "%zu memory records from %zu", n, start);
  emu_free(g);
}

TEST(trace_macros_compile_out_without_hl_trace) {
  emu_guest *g = probe(HL_TRACE_FLAG_ENABLED);
  if (!g) return;
  CHECK(call0(g, "Macros") == 0 && tr.n == 1, "%zu records", tr.n);
  hl_result res;
  const emu_run *run;
  settings(g, HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, NULL, "00-abc-def-01");
  CHECK(emu_call(g, "Traceparent", HL_TYPE_STRING, 0, NULL, &res, &run) && res.value.as.string.len == 13 &&
            !memcmp(res.value.as.string.data, "00-abc-def-01", 13),
        "traceparent");
  settings(g, HL_LOG_TRACE, HL_TRACE_FLAG_ENABLED, NULL, NULL);
  CHECK(emu_call(g, "Traceparent", HL_TYPE_STRING, 0, NULL, &res, &run) && res.value.as.string.len == 6, "no traceparent");
  emu_free(g);
}
