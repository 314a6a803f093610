/*
 * The C-variadic half of the C API: stable Rust cannot define functions
 * with `...`, so these collect their arguments or format their message
 * (with the libc's vsnprintf) and call the array or text variant the Rust
 * crate exports (the src/ folder). Nothing else lives here.
 */
#include <hyperlight/trace.h>

/* From the libc (musl), linked in the same group as this archive. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* From the Rust crate (not in guest.h). */
void *hl_rt_run_try_alloc(size_t size);
extern char hl_rt_fallback_message[256];
void hl_rt_log(hl_log_level level, const char *target, const char *file, uint32_t line, const char *message,
               size_t len);
void hl_rt_trace_event(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                       const char *message, size_t len);

/* The Rust side mirrors these layouts (src/types.rs). */
_Static_assert(sizeof(hl_value) == 24 && sizeof(hl_result) == 40, "hl_value/hl_result layout");
_Static_assert(sizeof(hl_call) == 32 && sizeof(hl_trace_field) == 32, "hl_call/hl_trace_field layout");

/* Formats into run memory: measure, allocate, format. NULL when the heap is
 * full; `*len` is the text's length either way. */
static char *run_vformat(size_t *len, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  *len = n < 0 ? 0 : (size_t)n;
  char *s = hl_rt_run_try_alloc(*len + 1);
  if (s) vsnprintf(s, *len + 1, fmt, again);
  va_end(again);
  return s;
}

hl_value hl_string_printf(const char *fmt, ...) {
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  char *s = run_vformat(&len, fmt, ap);
  va_end(ap);
  if (!s) hl_abortf(HL_ABORT_CODE_OUT_OF_MEMORY, "out of guest heap memory formatting a %zu-byte string", len);
  return hl_string_n(s, len);
}

hl_result hl_err(hl_error_code code, const char *fmt, ...) {
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  char *s = run_vformat(&len, fmt, ap);
  va_end(ap);
  if (!s) { /* heap full: a cut copy in static memory (hl_run_free ignores it) */
    va_start(ap, fmt);
    vsnprintf(hl_rt_fallback_message, sizeof hl_rt_fallback_message, fmt, ap);
    va_end(ap);
    s = hl_rt_fallback_message;
  }
  hl_result r = {code == HL_ERROR_NONE ? HL_ERROR_GUEST_FUNCTION_FAILED : code, s, {HL_TYPE_NONE, {.u64 = 0}}};
  return r;
}

/* A message of any length: 1 KiB on the stack, else run memory (the run is
 * ending); cut to 1 KiB only when the heap cannot hold it. */
static HL_NORETURN void abort_vf(uint32_t code, const char *fmt, va_list ap) {
  char text[1024];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(text, sizeof text, fmt, ap);
  if (n >= (int)sizeof text) {
    char *whole = hl_rt_run_try_alloc((size_t)n + 1);
    if (whole) {
      vsnprintf(whole, (size_t)n + 1, fmt, again);
      hl_abort(code, whole);
    }
  }
  va_end(again);
  hl_abort(code, text);
}

void hl_abortf(uint32_t code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  abort_vf(code, fmt, ap);
}

void hl_panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  abort_vf(HL_ABORT_CODE_PANIC, fmt, ap);
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

hl_result hl_call_host(const char *name, hl_type return_type, size_t argc, ...) {
  hl_value args[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  va_list ap;
  va_start(ap, argc);
  for (size_t i = 0; i < argc && i < HL_MAX_GUEST_FUNCTION_PARAMETERS; i++) args[i] = va_arg(ap, hl_value);
  va_end(ap);
  return hl_call_host_v(name, return_type, argc, args);
}

void hl_vlog(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, va_list ap) {
  if (!hl_log_enabled(level)) return;
  char small[256];
  va_list again;
  va_copy(again, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  size_t len = n < 0 ? 0 : (size_t)n;
  char *big = len < sizeof small ? NULL : hl_rt_run_try_alloc(len + 1);
  if (big) vsnprintf(big, len + 1, fmt, again);
  va_end(again);
  /* Without room for the whole message, its first 255 bytes. */
  hl_rt_log(level, target, file, line, big ? big : small, big || len < sizeof small ? len : sizeof small - 1);
  hl_run_free(big);
}

void hl_log(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hl_vlog(level, target, file, line, fmt, ap);
  va_end(ap);
}

void hl_trace_vevent(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                     const char *fmt, va_list ap) {
  if (!hl_trace_enabled(level, target)) return;
  /* The record keeps at most HL_TRACE_MAX_NAME_SIZE bytes of the message. */
  static char message[HL_TRACE_MAX_NAME_SIZE + 4];
  int n = vsnprintf(message, sizeof message, fmt ? fmt : "", ap);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1;
  hl_rt_trace_event(level, target, fields, field_count, message, len);
}

void hl_trace_event(hl_log_level level, const char *target, const hl_trace_field *fields, size_t field_count,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  hl_trace_vevent(level, target, fields, field_count, fmt, ap);
  va_end(ap);
}
