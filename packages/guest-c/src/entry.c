/*
 * The ELF entry point and the two operations (docs/abi.md "Entering the
 * guest"):
 *
 *   (fresh) --OP_INIT: heap, hyperlight_main, GuestFunctionDetails--> ready
 *   ready   --OP_CALL: decode, check, run, FunctionCallResult--> ready
 *
 * The stack is new on every entry; state that lasts lives in .data/.bss and
 * the heap.
 */
#include <string.h>

#include "../libc/src/heap.h"
#include "../libc/src/stdio_internal.h"
#include "runtime.h"
#include "trace_rt.h"
#include "wire.h"

static bool initialised;

/* Longest function name quoted in an error message (names come from the host). */
#define NAME_QUOTE_MAX 128

static bool span_ok(uint64_t gva, uint64_t size) { return gva != 0 && gva + size > gva; }

/* @returns NULL when the PEB is usable, else why not. */
static const char *check_peb(const hl_peb *p) {
  if (p->magic != HL_PEB_MAGIC) return "bad PEB magic";
  if (p->abi_version != HL_ABI_VERSION) return "unsupported ABI version";
  if (p->input_size <= HL_FRAME_HEADER_SIZE || !span_ok(p->input_gva, p->input_size)) return "bad input buffer";
  if (p->output_size <= HL_FRAME_HEADER_SIZE || !span_ok(p->output_gva, p->output_size)) return "bad output buffer";
  if (p->heap_size && !span_ok(p->heap_gva, p->heap_size)) return "bad heap";
  if (p->init_data_size && !span_ok(p->init_data_gva, p->init_data_size)) return "bad init data";
  if (p->log_size && (p->log_size < 8 || (p->log_gva & 3) || !span_ok(p->log_gva, p->log_size))) return "bad log area";
  if (p->max_log_level > HL_LOG_OFF) return "bad max_log_level";
  return NULL;
}

/* Writes `r` as the call's FunctionCallResult. */
static void write_result(const char *name, hl_result r) {
  void *out = (void *)(uintptr_t)hl_rt_peb->output_gva;
  size_t cap = hl_rt_peb->output_size;
  hl_stdio_flush(); /* uses the output buffer: before encoding into it */
  if (!hl_wire_encode_result(out, cap, &r)) {
    hl_result too_big = hl_rt_static_error(
        HL_ERROR_MESSAGE_TOO_LARGE, "the result of guest function \"%.*s\" does not fit in the %lu-byte output buffer",
        NAME_QUOTE_MAX, name, (unsigned long)cap);
    if (!hl_wire_encode_result(out, cap, &too_big))
      hl_abortf(HL_ABORT_CODE_BAD_ENVIRONMENT, "the %lu-byte output buffer cannot hold a call result", (unsigned long)cap);
  }
}

/* Runs the FunctionCall in the input buffer; `*name` is set once the function
 * is known, `*span` once the call is decoded (the runtime's "guest_call"). */
static hl_result dispatch(const char **name, hl_trace_span *span) {
  const uint8_t *payload;
  size_t len;
  hl_wire_call wc;
  const char *bad = hl_wire_frame((const uint8_t *)(uintptr_t)hl_rt_peb->input_gva, hl_rt_peb->input_size, &payload, &len);
  if (!bad) bad = hl_wire_decode_call(payload, len, &wc);
  if (bad) return hl_rt_static_error(HL_ERROR_MALFORMED_MESSAGE, "malformed FunctionCall: %s", bad);
  if (__builtin_expect(hl_rt_trace_flags & HL_TRACE_FLAG_RUNTIME_SPANS, 0))
    *span = hl_rt_trace_runtime_span("guest_call", wc.name, wc.name_len);

  int qlen = wc.name_len > NAME_QUOTE_MAX ? NAME_QUOTE_MAX : (int)wc.name_len;
  const hl_rt_function *f = hl_rt_find_function(wc.name, wc.name_len);
  if (!f) return hl_rt_static_error(HL_ERROR_FUNCTION_NOT_FOUND, "guest function \"%.*s\" does not exist", qlen, wc.name);
  *name = f->name;
  if (wc.args.count != f->param_count)
    return hl_rt_static_error(HL_ERROR_WRONG_ARGUMENT_COUNT, "function \"%s\" takes %zu argument%s but was called with %u",
                              f->name, f->param_count, f->param_count == 1 ? "" : "s", wc.args.count);

  hl_value args[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  for (uint32_t i = 0; i < wc.args.count; i++) {
    bad = hl_wire_decode_arg(&wc, i, &args[i]);
    if (bad) return hl_rt_static_error(HL_ERROR_MALFORMED_MESSAGE, "malformed FunctionCall: argument %u: %s", i, bad);
    if (args[i].type != f->params[i])
      return hl_rt_static_error(HL_ERROR_WRONG_ARGUMENT_TYPE, "argument %u of function \"%s\" must be %s, got %s", i,
                                f->name, hl_type_name(f->params[i]), hl_type_name(args[i].type));
  }
  if (wc.return_type != HL_TYPE_NONE && wc.return_type != f->return_type)
    return hl_rt_static_error(HL_ERROR_WRONG_RETURN_TYPE, "function \"%s\" returns %s but the caller expected %s",
                              f->name, hl_type_name(f->return_type), hl_type_name(wc.return_type));
  /* Copy out of the input buffer: host calls made by the function reuse it. */
  for (uint32_t i = 0; i < wc.args.count; i++)
    if (!hl_rt_own_value(&args[i]))
      return hl_rt_static_error(HL_ERROR_OUT_OF_MEMORY, "out of guest heap memory copying the arguments of \"%s\"", f->name);

  hl_call call = {f->name, args, wc.args.count, f->return_type};
  hl_result r = f->fn(&call);
  if (r.error == HL_ERROR_NONE && r.value.type != f->return_type)
    hl_panic("function \"%s\" is declared to return %s but its handler returned %s", f->name,
             hl_type_name(f->return_type), hl_type_name(r.value.type));
  return r;
}

void hl_rt_call(void) {
  const char *name = "?"; /* points into the registry, which outlives the run */
  hl_trace_span span = 0;
  hl_result r = dispatch(&name, &span);
  write_result(name, r);
  hl_trace_span_close(span);
  hl_rt_run_end();
}

void hl_entry(const hl_peb *peb, uint64_t op) {
  hl_rt_peb = NULL;
  hl_rt_trace_reset(); /* an abort before the settings are read records nothing */
  if (!peb) hl_abort(HL_ABORT_CODE_BAD_ENVIRONMENT, NULL);
  const char *bad = check_peb(peb);
  if (bad) {
    /* Report the reason only if the output buffer itself is trustworthy. */
    if (peb->magic == HL_PEB_MAGIC && peb->output_size > HL_FRAME_HEADER_SIZE && span_ok(peb->output_gva, peb->output_size))
      hl_rt_peb = peb;
    hl_abort(HL_ABORT_CODE_BAD_ENVIRONMENT, bad);
  }
  hl_rt_peb = peb;

  if (op == HL_OP_INIT) {
    if (initialised) hl_abort(HL_ABORT_CODE_BAD_ENVIRONMENT, "OP_INIT on an initialised guest");
    hl_rt_trace_begin(peb, op);
    hl_trace_span span = hl_rt_trace_runtime_span("guest_init", NULL, 0);
    hl_heap_init((void *)(uintptr_t)peb->heap_gva, peb->heap_size);
    hl_rt_registry_open();
    hyperlight_main();
    hl_stdio_flush(); /* before the function table goes into the output buffer */
    hl_rt_registry_publish();
    hl_trace_span_close(span);
    initialised = true;
    hl_rt_run_end();
    hl_rt_halt();
  }
  if (op == HL_OP_CALL) {
    if (!initialised) hl_abort(HL_ABORT_CODE_BAD_ENVIRONMENT, "OP_CALL before OP_INIT");
    hl_rt_trace_begin(peb, op);
    hl_rt_call();
    hl_rt_halt();
  }
  hl_abortf(HL_ABORT_CODE_BAD_ENVIRONMENT, "unknown entry operation %lu", (unsigned long)op);
}
