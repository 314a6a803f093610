/* Guest function registration (during OP_INIT) and the table published to
 * the host as GuestFunctionDetails. */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"
#include "wire.h"

static hl_rt_function *functions;
static size_t function_count, function_cap;
static bool registration_open;

/* Open-addressing index of `functions` by name hash, so a call finds its
 * function in a probe or two whatever the table size: each slot holds a
 * function's position + 1 (0 = empty); the slot count is a power of two and
 * at least twice the function count. */
static uint32_t *index_slots;
static size_t index_mask;

/* Mixes the name in 8 bytes at a time, one multiply per word (a multiply per
 * byte, as in FNV, costs more than comparing a short table). A multiply only
 * carries bits upwards, so each step folds the high half back down: every
 * input bit then reaches the low bits the index masks. */
static uint32_t name_hash(const char *name, size_t len) {
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  uint64_t h = len, w;
  for (; len >= 8; name += 8, len -= 8) {
    __builtin_memcpy(&w, name, 8); /* one load: see fb.c */
    h = (h ^ w) * k;
    h ^= h >> 32;
  }
  for (w = 0; len; len--) w = w << 8 | (uint8_t)name[len - 1];
  h = (h ^ w) * k;
  h ^= h >> 32;
  h *= k;
  return (uint32_t)(h ^ h >> 32);
}

static void index_insert(uint32_t *slots, size_t mask, size_t i) {
  size_t s = functions[i].name_hash & mask;
  while (slots[s]) s = (s + 1) & mask;
  slots[s] = (uint32_t)i + 1;
}

/* Makes room in the index for one more function. */
static void index_reserve(const char *name) {
  size_t slots = index_slots ? index_mask + 1 : 0;
  if (2 * (function_count + 1) <= slots) return;
  size_t grown = slots ? 2 * slots : 64;
  uint32_t *fresh = calloc(grown, sizeof *fresh);
  if (!fresh) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory registering \"%s\"", name);
  for (size_t i = 0; i < function_count; i++) index_insert(fresh, grown - 1, i);
  free(index_slots);
  index_slots = fresh;
  index_mask = grown - 1;
}

void hl_rt_registry_open(void) { registration_open = true; }

static bool valid_param(hl_type t) { return t >= HL_TYPE_I32 && t <= HL_TYPE_BYTES; }

void hl_register_function_v(const char *name, hl_guest_fn fn, hl_type return_type, size_t param_count,
                            const hl_type *param_types) {
  if (!registration_open) hl_panic("hl_register_function(\"%s\") called outside hyperlight_main", name ? name : "");
  if (!name || !*name) hl_panic("hl_register_function: the name is empty");
  if (!fn) hl_panic("hl_register_function(\"%s\"): the handler is NULL", name);
  if (return_type < HL_TYPE_I32 || return_type > HL_TYPE_VOID)
    hl_panic("hl_register_function(\"%s\"): invalid return type %d", name, (int)return_type);
  if (param_count > HL_MAX_GUEST_FUNCTION_PARAMETERS)
    hl_panic("hl_register_function(\"%s\"): %zu parameters, at most %d are allowed", name, param_count,
             HL_MAX_GUEST_FUNCTION_PARAMETERS);
  size_t len = strlen(name);
  if (hl_rt_find_function(name, len)) hl_panic("hl_register_function(\"%s\"): already registered", name);
  index_reserve(name);
  if (function_count == function_cap) {
    size_t cap = function_cap ? 2 * function_cap : 16;
    hl_rt_function *grown = realloc(functions, cap * sizeof *grown);
    if (!grown) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory registering \"%s\"", name);
    functions = grown;
    function_cap = cap;
  }
  hl_rt_function *f = &functions[function_count];
  memset(f, 0, sizeof *f);
  f->name = strdup(name);
  if (!f->name) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory registering \"%s\"", name);
  f->name_len = len;
  f->name_hash = name_hash(name, len);
  f->fn = fn;
  f->return_type = return_type;
  f->param_count = param_count;
  for (size_t i = 0; i < param_count; i++) {
    if (!valid_param(param_types[i]))
      hl_panic("hl_register_function(\"%s\"): parameter %zu has invalid type %d", name, i, (int)param_types[i]);
    f->params[i] = param_types[i];
  }
  index_insert(index_slots, index_mask, function_count);
  function_count++;
}

void hl_register_function(const char *name, hl_guest_fn fn, hl_type return_type, size_t param_count, ...) {
  hl_type params[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  va_list ap;
  va_start(ap, param_count);
  /* Read no more than fit; hl_register_function_v reports the excess. */
  for (size_t i = 0; i < param_count && i < HL_MAX_GUEST_FUNCTION_PARAMETERS; i++) params[i] = (hl_type)va_arg(ap, int);
  va_end(ap);
  hl_register_function_v(name, fn, return_type, param_count, params);
}

const hl_rt_function *hl_rt_find_function(const char *name, size_t len) {
  if (!index_slots) return NULL;
  uint32_t h = name_hash(name, len);
  for (size_t s = h & index_mask; index_slots[s]; s = (s + 1) & index_mask) {
    const hl_rt_function *f = &functions[index_slots[s] - 1];
    if (f->name_hash == h && f->name_len == len && !memcmp(f->name, name, len)) return f;
  }
  return NULL;
}

void hl_rt_registry_publish(void) {
  registration_open = false;
  hl_wire_signature *sigs = malloc((function_count ? function_count : 1) * sizeof *sigs);
  hl_fb_ref *scratch = malloc((function_count ? function_count : 1) * sizeof *scratch);
  if (!sigs || !scratch)
    hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory publishing %zu guest functions", function_count);
  for (size_t i = 0; i < function_count; i++) {
    const hl_rt_function *f = &functions[i];
    sigs[i].name = f->name;
    sigs[i].return_type = f->return_type;
    sigs[i].param_count = (uint8_t)f->param_count;
    for (size_t j = 0; j < f->param_count; j++) sigs[i].params[j] = (uint8_t)f->params[j];
  }
  size_t n = hl_wire_encode_details((void *)(uintptr_t)hl_rt_peb->output_gva, hl_rt_peb->output_size, sigs,
                                    function_count, scratch);
  free(scratch);
  free(sigs);
  if (!n)
    hl_abortf(HL_ABORT_CODE_BAD_ENVIRONMENT, "the table of %zu guest functions does not fit in the %lu-byte output buffer",
              function_count, (unsigned long)hl_rt_peb->output_size);
}
