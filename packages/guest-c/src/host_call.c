/* Calling host functions: FunctionCall -> output, `out CALL_HOST`, then the
 * host's FunctionCallResult from the input buffer (docs/abi.md "Buffers and
 * frames", steps 2-3). */
#include <string.h>

#include "../libc/src/stdio_internal.h"
#include "runtime.h"
#include "trace_rt.h"
#include "wire.h"

/* The host call itself; hl_call_host_v wraps it in the runtime's "host_call" span. */
static hl_result call_host(const char *name, hl_type return_type, size_t argc, const hl_value *args) {
  const hl_peb *peb = hl_rt_peb;
  if (!peb) hl_panic("hl_call_host(\"%s\") outside a run", name);
  if (return_type < HL_TYPE_I32 || return_type > HL_TYPE_VOID)
    hl_panic("hl_call_host(\"%s\"): invalid return type %d", name, (int)return_type);
  if (argc > HL_MAX_GUEST_FUNCTION_PARAMETERS)
    return hl_err(HL_ERROR_WRONG_ARGUMENT_COUNT, "host function \"%s\" called with %zu arguments, at most %d are allowed",
                  name, argc, HL_MAX_GUEST_FUNCTION_PARAMETERS);
  for (size_t i = 0; i < argc; i++)
    if (args[i].type < HL_TYPE_I32 || args[i].type > HL_TYPE_BYTES)
      hl_panic("hl_call_host(\"%s\"): argument %zu has invalid type %d", name, i, (int)args[i].type);

  hl_stdio_flush(); /* uses the output buffer: before encoding into it */
  if (!hl_wire_encode_call((void *)(uintptr_t)peb->output_gva, peb->output_size, name, strlen(name), args, argc,
                           return_type))
    return hl_err(HL_ERROR_MESSAGE_TOO_LARGE, "the call of host function \"%s\" does not fit in the %lu-byte output buffer",
                  name, (unsigned long)peb->output_size);
  hl_outl(HL_PORT_CALL_HOST, 0);

  const uint8_t *payload;
  size_t len;
  uint32_t message_len;
  hl_result r;
  const char *bad = hl_wire_frame((const uint8_t *)(uintptr_t)peb->input_gva, peb->input_size, &payload, &len);
  if (!bad) bad = hl_wire_decode_result(payload, len, &r, &message_len);
  if (bad) return hl_err(HL_ERROR_MALFORMED_MESSAGE, "malformed FunctionCallResult from host function \"%s\": %s", name, bad);
  if (r.error != HL_ERROR_NONE) {
    /* Copy the message out of the input buffer, which the next call reuses. */
    char *m = hl_rt_run_try_alloc(message_len + 1);
    if (!m) return hl_rt_static_error(r.error, "%.*s", (int)message_len, r.message);
    memcpy(m, r.message, message_len);
    m[message_len] = 0;
    r.message = m;
    return r;
  }
  if (r.value.type != return_type)
    return hl_err(HL_ERROR_WRONG_RETURN_TYPE, "host function \"%s\" returned %s, expected %s", name,
                  hl_type_name(r.value.type), hl_type_name(return_type));
  if (!hl_rt_own_value(&r.value))
    return hl_rt_static_error(HL_ERROR_OUT_OF_MEMORY, "out of guest heap memory copying the result of host function \"%s\"", name);
  return r;
}

hl_result hl_call_host_v(const char *name, hl_type return_type, size_t argc, const hl_value *args) {
  if (__builtin_expect(!(hl_rt_trace_flags & HL_TRACE_FLAG_RUNTIME_SPANS), 1)) return call_host(name, return_type, argc, args);
  hl_trace_span span = hl_rt_trace_runtime_span("host_call", name, name ? strlen(name) : 0);
  hl_result r = call_host(name, return_type, argc, args);
  hl_trace_span_close(span);
  return r;
}

hl_result hl_call_host(const char *name, hl_type return_type, size_t argc, ...) {
  hl_value args[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  va_list ap;
  va_start(ap, argc);
  for (size_t i = 0; i < argc && i < HL_MAX_GUEST_FUNCTION_PARAMETERS; i++) args[i] = va_arg(ap, hl_value);
  va_end(ap);
  return hl_call_host_v(name, return_type, argc, args);
}
