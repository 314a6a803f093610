/* The tracing hooks the runtime and the allocator call (trace.c; not installed). */
#ifndef HL_TRACE_RT_H
#define HL_TRACE_RT_H

#include <hyperlight/trace.h>

/** TRACE_FLAG_* of the current run; 0 when the run has no usable trace area. */
extern uint8_t hl_rt_trace_flags;

/** Forgets the previous run's trace settings: nothing is recorded until hl_rt_trace_begin. */
void hl_rt_trace_reset(void);

/**
 * Takes the run's settings from the trace area the PEB names (the PEB itself
 * is already checked), restarts span ids and appends RUN_START for `op`. A
 * trace area or header that does not make sense leaves tracing off for the run.
 */
void hl_rt_trace_begin(const hl_peb *peb, uint64_t op);

/** Closes every span still open: the runtime calls it before it halts or aborts. */
void hl_rt_trace_close_all(void);

/**
 * Opens one of the runtime's own spans ("guest_init", "guest_call",
 * "host_call") when the run has TRACE_FLAG_RUNTIME_SPANS; `function` (of
 * `len` bytes) becomes its `function` field unless NULL.
 */
hl_trace_span hl_rt_trace_runtime_span(const char *name, const char *function, size_t len);

/**
 * Appends ALLOC or FREE (`kind`) for the block at `address` with the stack
 * from the frame-pointer chain starting at `frame`, the allocator entry
 * point's own frame (`__builtin_frame_address(0)`). Call it only when
 * `hl_rt_trace_flags & HL_TRACE_FLAG_MEMORY`; it never allocates.
 */
void hl_rt_trace_memory(uint8_t kind, const void *address, size_t size, void *const *frame);

#endif /* HL_TRACE_RT_H */
