/*
 * An in-process stand-in for the hyperlight-ts host, for testing guests
 * without /dev/kvm. It loads a guest ELF into this process (applying its
 * RELATIVE relocations and segment permissions), lays out PEB, buffers, log
 * area, heap and a guarded stack as docs/abi.md describes, and enters
 * hl_entry on the guest stack. The guest's `out` instructions fault (no I/O
 * permission in a Linux process), and the SIGSEGV handler plays the host:
 * it decodes the port and value, serves CALL_HOST / DEBUG_PRINT /
 * ABORT_CHUNK / LOG_FLUSH / TRACE_FLUSH and resumes, or ends the run on
 * HALT / ABORT / other ports / real faults. Like the host, it drains the log
 * and trace areas at every exit, and writes the trace header before every run.
 *
 * What it does not emulate: paging-level isolation of the PEB from
 * supervisor structures, CPL3 privilege checks other than port access, and
 * exception vectors (faults are reported as POSIX signals).
 */
#ifndef HOST_EMULATOR_H
#define HOST_EMULATOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/** Sizes of the areas a guest gets; 0 picks the default. */
typedef struct emu_config {
  size_t input_size, output_size, log_size, heap_size, stack_size;
  size_t trace_size; /* 0: no trace area (the PEB says 0/0) */
  const void *init_data;
  size_t init_data_size;
  uint64_t max_log_level; /* default HL_LOG_TRACE */
} emu_config;

typedef enum emu_exit_kind {
  EMU_HALT,         /* HALT: output holds the message */
  EMU_ABORT,        /* ABORT: code + message */
  EMU_UNKNOWN_PORT, /* an `out` to a port outside the ABI */
  EMU_FAULT,        /* a CPU exception: signal + address */
  EMU_TIMEOUT,      /* the run exceeded its time budget */
} emu_exit_kind;

typedef struct emu_log {
  unsigned level, line;
  char message[512], target[64], file[256];
} emu_log;

/** How one run ended and what happened during it. */
typedef struct emu_run {
  emu_exit_kind kind;
  uint32_t abort_code;
  char abort_message[1 << 16];
  size_t abort_message_len;
  unsigned abort_chunks;
  int port;
  int signo;
  uint64_t fault_addr;
  bool fault_in_stack_guard;
  char printed[1 << 16];
  size_t printed_len;
  unsigned print_frames;
  emu_log logs[256];
  unsigned log_count;
  unsigned log_flushes; /* LOG_FLUSH exits */
  unsigned host_calls;
  unsigned exits;         /* every `out`, the final HALT/ABORT included */
  unsigned trace_flushes; /* TRACE_FLUSH exits */
  uint8_t trace[1 << 20]; /* the trace records drained in this run, in order */
  size_t trace_len;
  uint64_t trace_lost;    /* the guest's lost counts, plus records that did not fit `trace` */
} emu_run;

typedef struct emu_guest emu_guest;

/** A host function: returns a value or an error. */
typedef hl_result (*emu_host_fn)(const hl_value *args, size_t argc);

/** A host function returning this error code makes the emulator write garbage as its reply. */
#define EMU_REPLY_GARBAGE ((hl_error_code)0xDEAD)

/** Registers a host function for every guest (name is not copied). */
void emu_register_host(const char *name, emu_host_fn fn);

/** Loads a guest ELF. @returns NULL (and prints why) on failure. */
emu_guest *emu_load(const char *path, const emu_config *cfg);
void emu_free(emu_guest *g);

/** Runs OP_INIT (or any `op`); the result is also kept for emu_last. */
const emu_run *emu_enter(emu_guest *g, uint64_t op, unsigned timeout_ms);

/** Time budget of one emu_call run (default 5000 ms). */
extern unsigned emu_call_timeout_ms;

/**
 * Calls a guest function: encodes the FunctionCall into input, runs
 * OP_CALL. On HALT, decodes the FunctionCallResult into `*result` (strings
 * and bytes point into the output buffer) and returns true.
 */
bool emu_call(emu_guest *g, const char *name, hl_type ret, size_t argc, const hl_value *args, hl_result *result,
              const emu_run **run);

/** The run in progress (for host functions that inspect it). */
const emu_run *emu_current_run(void);

/** The output buffer (e.g. for GuestFunctionDetails after OP_INIT). */
uint8_t *emu_output(emu_guest *g);
/** Writes raw bytes at the start of the input buffer. */
void emu_write_input(emu_guest *g, const void *data, size_t len);
/** The PEB (writable here: tests corrupt it on purpose). */
hl_peb *emu_peb(emu_guest *g);
/** Makes the PEB writable (true) or read-only again (false). */
void emu_peb_writable(emu_guest *g, bool writable);
/** The trace header written into the trace area before every run (zeroed: record nothing). */
uint8_t *emu_trace_header(emu_guest *g);
/** The trace area itself (NULL when there is none). */
uint8_t *emu_trace_area(emu_guest *g);
/** Address range of the loaded image. */
void emu_image_range(emu_guest *g, uintptr_t *lo, uintptr_t *hi);

#endif /* HOST_EMULATOR_H */
