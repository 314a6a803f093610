/*
 * Values and run memory. Run memory is heap memory freed when the run ends:
 * argument copies, host-call results, error messages and hl_run_alloc
 * blocks. Each block carries a two-pointer header linking it into one
 * circular list, so freeing one early is O(1) and the end of a run frees all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

typedef struct run_block {
  struct run_block *prev, *next;
} run_block; /* 16 bytes: keeps the payload 16-byte aligned */

static run_block run_list = {&run_list, &run_list};

void *hl_rt_run_try_alloc(size_t size) {
  if (size > SIZE_MAX - sizeof(run_block)) return NULL;
  run_block *b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->prev = run_list.prev;
  b->next = &run_list;
  run_list.prev->next = b;
  run_list.prev = b;
  return b + 1;
}

void *hl_run_alloc(size_t size) {
  void *p = hl_rt_run_try_alloc(size);
  if (!p) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory allocating %zu bytes of run memory", size);
  return p;
}

void hl_run_free(void *p) {
  if (!p) return;
  run_block *b = (run_block *)p - 1;
  b->prev->next = b->next;
  b->next->prev = b->prev;
  free(b);
}

void hl_rt_run_end(void) {
  while (run_list.next != &run_list) hl_run_free(run_list.next + 1);
}

bool hl_rt_own_value(hl_value *v) {
  if (v->type == HL_TYPE_STRING) {
    char *copy = hl_rt_run_try_alloc(v->as.string.len + 1);
    if (!copy) return false;
    memcpy(copy, v->as.string.data, v->as.string.len);
    copy[v->as.string.len] = 0;
    v->as.string.data = copy;
  } else if (v->type == HL_TYPE_BYTES) {
    /* Always allocate, even for 0 bytes, so hl_result_free has a block. */
    uint8_t *copy = hl_rt_run_try_alloc(v->as.bytes.len ? v->as.bytes.len : 1);
    if (!copy) return false;
    memcpy(copy, v->as.bytes.data, v->as.bytes.len);
    v->as.bytes.data = copy;
  }
  return true;
}

void hl_result_free(hl_result *r) {
  if (r->error != HL_ERROR_NONE) hl_run_free((void *)r->message);
  else if (r->value.type == HL_TYPE_STRING) hl_run_free((void *)r->value.as.string.data);
  else if (r->value.type == HL_TYPE_BYTES) hl_run_free((void *)r->value.as.bytes.data);
  memset(r, 0, sizeof *r);
}

hl_value hl_string_copy(const char *s) {
  size_t n = strlen(s);
  char *copy = hl_run_alloc(n + 1);
  memcpy(copy, s, n + 1);
  return hl_string_n(copy, n);
}

hl_value hl_bytes_copy(const void *data, size_t len) {
  uint8_t *copy = hl_run_alloc(len ? len : 1);
  memcpy(copy, data, len);
  return hl_bytes(copy, len);
}

/* vsnprintf into run memory: measure, allocate, format. */
static char *run_vformat(size_t *len, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  if (n < 0) n = 0;
  char *s = hl_rt_run_try_alloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
  va_end(again);
  *len = (size_t)n;
  return s;
}

hl_value hl_string_printf(const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  char *s = run_vformat(&n, fmt, ap);
  va_end(ap);
  if (!s) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory formatting a %zu-byte string", n);
  return hl_string_n(s, n);
}

/* Shared by hl_err and the dispatcher when the heap cannot hold a message. */
static char static_message[256];

hl_result hl_rt_static_error(hl_error_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(static_message, sizeof static_message, fmt, ap);
  va_end(ap);
  hl_result r = {code, static_message, {HL_TYPE_NONE, {.u64 = 0}}};
  return r;
}

hl_result hl_err(hl_error_code code, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  char *s = run_vformat(&n, fmt, ap);
  va_end(ap);
  if (code == HL_ERROR_NONE) code = HL_ERROR_GUEST_FUNCTION_FAILED; /* an error must stay an error */
  if (!s) { /* heap exhausted: keep a truncated copy in static memory */
    va_start(ap, fmt);
    vsnprintf(static_message, sizeof static_message, fmt, ap);
    va_end(ap);
    s = static_message;
  }
  hl_result r = {code, s, {HL_TYPE_NONE, {.u64 = 0}}};
  return r;
}

const char *hl_type_name(hl_type type) {
  static const char *const names[] = {"none", "i32", "u32", "i64", "u64", "f32", "f64", "string", "bool", "bytes", "void"};
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "none";
}

/* Accessors: the dispatcher checked the types, so a mismatch here is a bug
 * in the handler (wrong index or wrong accessor). */
static const hl_value *arg(const hl_call *call, size_t i, hl_type type) {
  if (i >= call->argc) hl_panic("function \"%s\" has %zu arguments, handler asked for argument %zu", call->name, call->argc, i);
  const hl_value *v = &call->args[i];
  if (v->type != type)
    hl_panic("argument %zu of function \"%s\" is %s, handler read it as %s", i, call->name, hl_type_name(v->type),
             hl_type_name(type));
  return v;
}

int32_t hl_arg_i32(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_I32)->as.i32; }
uint32_t hl_arg_u32(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_U32)->as.u32; }
int64_t hl_arg_i64(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_I64)->as.i64; }
uint64_t hl_arg_u64(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_U64)->as.u64; }
float hl_arg_f32(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_F32)->as.f32; }
double hl_arg_f64(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_F64)->as.f64; }
bool hl_arg_bool(const hl_call *call, size_t i) { return arg(call, i, HL_TYPE_BOOL)->as.boolean; }

const char *hl_arg_string(const hl_call *call, size_t i, size_t *len) {
  const hl_value *v = arg(call, i, HL_TYPE_STRING);
  if (len) *len = v->as.string.len;
  return v->as.string.data;
}

const uint8_t *hl_arg_bytes(const hl_call *call, size_t i, size_t *len) {
  const hl_value *v = arg(call, i, HL_TYPE_BYTES);
  if (len) *len = v->as.bytes.len;
  return v->as.bytes.data;
}
