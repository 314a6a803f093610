/* State and helpers shared by the runtime's source files (not installed). */
#ifndef HL_RUNTIME_H
#define HL_RUNTIME_H

#include <hyperlight/guest.h>

/** PEB of the current run; NULL until hl_entry has checked it. */
extern const hl_peb *hl_rt_peb;

/**
 * OP_CALL's work short of the exit: decodes and checks the FunctionCall in
 * the input buffer, runs the function, writes the FunctionCallResult to the
 * output buffer and frees the run memory.
 */
void hl_rt_call(void);

/** Ends the run at HALT (the output buffer already holds the message). */
HL_NORETURN void hl_rt_halt(void);

/** Sends text with DEBUG_PRINT frames, without flushing stdio first. */
void hl_rt_print_raw(const char *text, size_t len);

/** Like hl_run_alloc but returns NULL instead of aborting. */
void *hl_rt_run_try_alloc(size_t size);
/** Frees all run memory: the end of every run. */
void hl_rt_run_end(void);

/** Copies a borrowed string/bytes value into run memory; false when the heap is full. */
bool hl_rt_own_value(hl_value *v);

/** An error result whose message lives in a static buffer (no heap needed). */
hl_result hl_rt_static_error(hl_error_code code, const char *fmt, ...) HL_PRINTF(2, 3);

/** Registry (registry.c). */
typedef struct hl_rt_function {
  const char *name;
  size_t name_len;
  uint32_t name_hash; /* indexes the table (registry.c) */
  hl_guest_fn fn;
  hl_type return_type;
  size_t param_count;
  hl_type params[HL_MAX_GUEST_FUNCTION_PARAMETERS];
} hl_rt_function;

void hl_rt_registry_open(void);
/** Writes GuestFunctionDetails to the output buffer and closes registration. */
void hl_rt_registry_publish(void);
const hl_rt_function *hl_rt_find_function(const char *name, size_t len);

/** Length of the longest prefix of `len` bytes that is at most `max` and ends on a UTF-8 boundary. */
size_t hl_rt_utf8_cut(const char *text, size_t len, size_t max);

#endif /* HL_RUNTIME_H */
