/**
 * @file hyperlight/guest.h
 * The C guest API of hyperlight-ts.
 *
 * A guest is a static-PIE ELF whose entry point, {@link hyperlight_entry},
 * lives in `libhyperlight_guest.a`: the Rust guest runtime (one runtime for C
 * and Rust guests, packages/guest-rs) with this API as a thin C layer over it.
 * The user supplies `void hyperlight_main(void)`, which registers guest
 * functions; the runtime then answers the host's calls. The C library is musl
 * (docs/libc.md); `malloc` and Rust allocations share the runtime's heap. The
 * binary contract with the host is docs/abi.md; numbers come from
 * `hyperlight/abi.h` (generated, do not edit).
 *
 * Lifetimes in one sentence: every pointer the runtime hands you (arguments,
 * host-call results, {@link hl_run_alloc} memory) lives until the current run
 * (one `OP_INIT` or one `OP_CALL`) ends; copy it with `malloc` to keep it. (The
 * runtime frees it when the guest function or `hyperlight_main` returns,
 * after it has copied the function's result.)
 *
 * @example
 * ```c
 * #include <hyperlight/guest.h>
 *
 * static hl_result add(const hl_call *call) {
 *   return hl_ok(hl_i32(hl_arg_i32(call, 0) + hl_arg_i32(call, 1)));
 * }
 *
 * void hyperlight_main(void) {
 *   hl_register_function("Add", add, HL_TYPE_I32, 2, HL_TYPE_I32, HL_TYPE_I32);
 * }
 * ```
 */
#ifndef HYPERLIGHT_GUEST_H
#define HYPERLIGHT_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Marks functions that never return (they end the run with an `out`). */
#define HL_NORETURN __attribute__((noreturn))
/** Header-defined helpers; `__inline__` so the header also compiles as C89. */
#define HL_INLINE static __inline__
/** Lets gcc check printf-style format strings at argument `fmt_index`. */
#define HL_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Declared type of a parameter or return value. The numbers are the wire's
 * `hyperlight.wire.ValueType` (schema/values.fbs) and must not change.
 */
typedef enum hl_type {
  HL_TYPE_NONE = 0,    /**< Only in a FunctionCall's return_type: "no expectation". */
  HL_TYPE_I32 = 1,     /**< int32_t */
  HL_TYPE_U32 = 2,     /**< uint32_t */
  HL_TYPE_I64 = 3,     /**< int64_t */
  HL_TYPE_U64 = 4,     /**< uint64_t */
  HL_TYPE_F32 = 5,     /**< float */
  HL_TYPE_F64 = 6,     /**< double */
  HL_TYPE_STRING = 7,  /**< UTF-8 text, passed as NUL-terminated pointer + length */
  HL_TYPE_BOOL = 8,    /**< bool */
  HL_TYPE_BYTES = 9,   /**< byte array, passed as pointer + length */
  HL_TYPE_VOID = 10,   /**< no value; return types only */
} hl_type;

/**
 * Why a call failed. The numbers are the wire's `hyperlight.wire.ErrorCode`
 * (schema/function_call_result.fbs).
 */
typedef enum hl_error_code {
  HL_ERROR_NONE = 0,                    /**< Not an error: the call succeeded. */
  HL_ERROR_FUNCTION_NOT_FOUND = 1,      /**< No guest function has that name. */
  HL_ERROR_WRONG_ARGUMENT_COUNT = 2,    /**< Argument count differs from the signature. */
  HL_ERROR_WRONG_ARGUMENT_TYPE = 3,     /**< An argument's type differs from the signature. */
  HL_ERROR_WRONG_RETURN_TYPE = 4,       /**< Caller expected another return type. */
  HL_ERROR_MALFORMED_MESSAGE = 5,       /**< A flatbuffer failed bounds checks. */
  HL_ERROR_HOST_FUNCTION_FAILED = 6,    /**< A host function threw or rejected its arguments. */
  HL_ERROR_GUEST_FUNCTION_FAILED = 7,   /**< A guest function returned an error (use this one in {@link hl_err}). */
  HL_ERROR_OUT_OF_MEMORY = 8,           /**< The guest heap could not hold the call's data. */
  HL_ERROR_HOST_FUNCTION_NOT_FOUND = 9, /**< The host has no function with that name. */
  HL_ERROR_MESSAGE_TOO_LARGE = 10,      /**< A result or host call does not fit its buffer. */
} hl_error_code;

/**
 * A typed value crossing the VM boundary: a guest function's argument or
 * result, a host function's argument or result.
 *
 * `as.string.data` is always NUL-terminated in values the runtime creates;
 * `len` excludes the NUL (the text may contain embedded NULs, so prefer `len`).
 */
typedef struct hl_value {
  hl_type type; /**< Which member of `as` is valid. */
  union {
    int32_t i32;   /**< HL_TYPE_I32 */
    uint32_t u32;  /**< HL_TYPE_U32 */
    int64_t i64;   /**< HL_TYPE_I64 */
    uint64_t u64;  /**< HL_TYPE_U64 */
    float f32;     /**< HL_TYPE_F32 */
    double f64;    /**< HL_TYPE_F64 */
    bool boolean;  /**< HL_TYPE_BOOL */
    struct {
      const char *data; /**< UTF-8 bytes followed by a NUL */
      size_t len;       /**< length in bytes, without the NUL */
    } string;           /**< HL_TYPE_STRING */
    struct {
      const uint8_t *data; /**< the bytes (may be NULL when len is 0) */
      size_t len;          /**< length in bytes */
    } bytes;               /**< HL_TYPE_BYTES */
  } as;
} hl_value;

/**
 * Outcome of a guest function or of a host call: a value, or an error code
 * with a message. `error == HL_ERROR_NONE` means success.
 */
typedef struct hl_result {
  hl_error_code error; /**< HL_ERROR_NONE on success. */
  const char *message; /**< Error text (NUL-terminated), NULL on success. */
  hl_value value;      /**< The value on success; `type` is HL_TYPE_NONE on error. */
} hl_result;

/** @returns an i32 value. */
HL_INLINE hl_value hl_i32(int32_t v) { hl_value r; r.type = HL_TYPE_I32; r.as.i32 = v; return r; }
/** @returns a u32 value. */
HL_INLINE hl_value hl_u32(uint32_t v) { hl_value r; r.type = HL_TYPE_U32; r.as.u32 = v; return r; }
/** @returns an i64 value. */
HL_INLINE hl_value hl_i64(int64_t v) { hl_value r; r.type = HL_TYPE_I64; r.as.i64 = v; return r; }
/** @returns a u64 value. */
HL_INLINE hl_value hl_u64(uint64_t v) { hl_value r; r.type = HL_TYPE_U64; r.as.u64 = v; return r; }
/** @returns an f32 value. */
HL_INLINE hl_value hl_f32(float v) { hl_value r; r.type = HL_TYPE_F32; r.as.f32 = v; return r; }
/** @returns an f64 value. */
HL_INLINE hl_value hl_f64(double v) { hl_value r; r.type = HL_TYPE_F64; r.as.f64 = v; return r; }
/** @returns a bool value. */
HL_INLINE hl_value hl_bool(bool v) { hl_value r; r.type = HL_TYPE_BOOL; r.as.boolean = v; return r; }
/** @returns the void value (what a `HL_TYPE_VOID` function returns). */
HL_INLINE hl_value hl_void(void) { hl_value r; r.type = HL_TYPE_VOID; r.as.u64 = 0; return r; }

/**
 * A string value over `len` bytes at `data` (not copied: the memory must
 * outlive the point where the runtime encodes it, i.e. not a local array of
 * the returning function — use {@link hl_string_copy} for those).
 */
HL_INLINE hl_value hl_string_n(const char *data, size_t len) {
  hl_value r;
  r.type = HL_TYPE_STRING;
  r.as.string.data = data;
  r.as.string.len = len;
  return r;
}

/** A string value over the NUL-terminated `s` (not copied; see {@link hl_string_n}). */
HL_INLINE hl_value hl_string(const char *s) { return hl_string_n(s, __builtin_strlen(s)); }

/** A string value holding a copy of `s` in run memory ({@link hl_run_alloc}). */
hl_value hl_string_copy(const char *s);

/** A string value formatted like `printf`, stored in run memory. */
hl_value hl_string_printf(const char *fmt, ...) HL_PRINTF(1, 2);

/** A bytes value over `len` bytes at `data` (not copied; see {@link hl_string_n}). */
HL_INLINE hl_value hl_bytes(const void *data, size_t len) {
  hl_value r;
  r.type = HL_TYPE_BYTES;
  r.as.bytes.data = (const uint8_t *)data;
  r.as.bytes.len = len;
  return r;
}

/** A bytes value holding a copy of `len` bytes at `data`, in run memory. */
hl_value hl_bytes_copy(const void *data, size_t len);

/** @returns a successful result carrying `value`. */
HL_INLINE hl_result hl_ok(hl_value value) {
  hl_result r;
  r.error = HL_ERROR_NONE;
  r.message = NULL;
  r.value = value;
  return r;
}

/**
 * @returns a failed result with `code` and a printf-formatted message held in
 * run memory. Guest functions normally use HL_ERROR_GUEST_FUNCTION_FAILED.
 */
hl_result hl_err(hl_error_code code, const char *fmt, ...) HL_PRINTF(2, 3);

/** @returns true when `r` is an error. */
HL_INLINE bool hl_is_err(const hl_result *r) { return r->error != HL_ERROR_NONE; }

/** @returns the wire name of a type ("i32", "string", ...; "none" for unknown numbers). */
const char *hl_type_name(hl_type type);

/* ------------------------------------------------------------------------ */
/* Guest functions                                                           */
/* ------------------------------------------------------------------------ */

/**
 * One call of a guest function, as the handler sees it. The runtime has
 * already checked the argument count and types against the registered
 * signature, so `args[i].type` is the declared type of parameter `i`.
 */
typedef struct hl_call {
  const char *name;      /**< The called function's name (NUL-terminated). */
  const hl_value *args;  /**< `argc` arguments, copied into run memory. */
  size_t argc;           /**< Number of arguments. */
  hl_type return_type;   /**< The declared return type. */
} hl_call;

/**
 * A guest function handler. It returns {@link hl_ok} with a value of the
 * declared return type (`hl_void()` for void functions) or {@link hl_err}.
 * Returning a value of another type is a bug and aborts with
 * HL_ABORT_CODE_PANIC.
 */
typedef hl_result (*hl_guest_fn)(const hl_call *call);

/**
 * The user's initialisation hook, called once during `OP_INIT` after the heap
 * and the C library are ready. Register every guest function here. The
 * runtime has a weak empty default, so a program without one still links (a
 * build system's `int main(void)` compiler check); it publishes no functions.
 */
void hyperlight_main(void);

/**
 * Registers a guest function. Call it from `hyperlight_main`.
 *
 * @param name - unique function name (copied)
 * @param fn - the handler
 * @param return_type - declared return type (any type, including HL_TYPE_VOID)
 * @param param_count - number of parameters, at most HL_MAX_GUEST_FUNCTION_PARAMETERS
 * @param ... - `param_count` parameter types (`hl_type`, never VOID or NONE)
 *
 * Misuse (a duplicate name, a bad type, too many parameters, registering after
 * initialisation) is a programming error and aborts with HL_ABORT_CODE_PANIC.
 */
void hl_register_function(const char *name, hl_guest_fn fn, hl_type return_type, size_t param_count, ...);

/** {@link hl_register_function} with the parameter types in an array. */
void hl_register_function_v(const char *name, hl_guest_fn fn, hl_type return_type, size_t param_count,
                            const hl_type *param_types);

/** @returns argument `i` as i32; aborts with HL_ABORT_CODE_PANIC if it is not one. */
int32_t hl_arg_i32(const hl_call *call, size_t i);
/** @returns argument `i` as u32 (aborts on a type mismatch). */
uint32_t hl_arg_u32(const hl_call *call, size_t i);
/** @returns argument `i` as i64 (aborts on a type mismatch). */
int64_t hl_arg_i64(const hl_call *call, size_t i);
/** @returns argument `i` as u64 (aborts on a type mismatch). */
uint64_t hl_arg_u64(const hl_call *call, size_t i);
/** @returns argument `i` as f32 (aborts on a type mismatch). */
float hl_arg_f32(const hl_call *call, size_t i);
/** @returns argument `i` as f64 (aborts on a type mismatch). */
double hl_arg_f64(const hl_call *call, size_t i);
/** @returns argument `i` as bool (aborts on a type mismatch). */
bool hl_arg_bool(const hl_call *call, size_t i);
/**
 * @returns argument `i` as a NUL-terminated string (aborts on a type mismatch).
 * @param len - receives the length in bytes without the NUL; may be NULL
 */
const char *hl_arg_string(const hl_call *call, size_t i, size_t *len);
/**
 * @returns argument `i`'s bytes (aborts on a type mismatch).
 * @param len - receives the length in bytes; may be NULL
 */
const uint8_t *hl_arg_bytes(const hl_call *call, size_t i, size_t *len);

/* ------------------------------------------------------------------------ */
/* Host functions                                                            */
/* ------------------------------------------------------------------------ */

/**
 * Calls a host function and waits for its result (one `CALL_HOST` exit).
 *
 * @param name - the host function's registered name
 * @param return_type - the type the guest expects back (HL_TYPE_VOID for none)
 * @param argc - number of arguments, at most HL_MAX_GUEST_FUNCTION_PARAMETERS
 * @param ... - `argc` arguments of type `hl_value` (e.g. `hl_i32(1)`)
 * @returns the value (strings and bytes copied into run memory), or an error:
 * the host's own CallError (HL_ERROR_HOST_FUNCTION_FAILED,
 * HL_ERROR_HOST_FUNCTION_NOT_FOUND, ...), HL_ERROR_WRONG_RETURN_TYPE when the
 * host answered with another type, HL_ERROR_MESSAGE_TOO_LARGE when the call
 * does not fit in the output buffer, HL_ERROR_MALFORMED_MESSAGE when the
 * host's answer fails bounds checks.
 *
 * @example
 * ```c
 * hl_result r = hl_call_host("HostAdd", HL_TYPE_I32, 2, hl_i32(1), hl_i32(2));
 * if (hl_is_err(&r)) return r;   // propagate the host's error
 * int32_t sum = r.value.as.i32;
 * ```
 */
hl_result hl_call_host(const char *name, hl_type return_type, size_t argc, ...);

/** {@link hl_call_host} with the arguments in an array. */
hl_result hl_call_host_v(const char *name, hl_type return_type, size_t argc, const hl_value *args);

/**
 * Releases the run memory behind a result's strings, bytes and message before
 * the run ends (useful in loops that make many host calls). `r` is cleared.
 */
void hl_result_free(hl_result *r);

/* ------------------------------------------------------------------------ */
/* Memory                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Allocates `size` bytes (16-byte aligned) from the guest heap that are freed
 * automatically when the current run ends. Aborts with
 * HL_ABORT_CODE_OUT_OF_MEMORY when the heap is exhausted.
 */
void *hl_run_alloc(size_t size);

/** Frees run memory early; `p` must come from {@link hl_run_alloc} (NULL is ignored). */
void hl_run_free(void *p);

/* ------------------------------------------------------------------------ */
/* Exits, printing, aborting                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Writes the 32-bit `value` to I/O `port` (`out dx, eax`): the guest's only
 * way to talk to the host. Every exit of the runtime goes through it.
 */
void hl_outl(uint16_t port, uint32_t value);

/**
 * Hands `len` bytes of text to the host's print function (DEBUG_PRINT exits;
 * split into several frames at UTF-8 boundaries if longer than the output
 * buffer). Each invalid UTF-8 sequence arrives as U+FFFD. Text still in
 * `stdout`'s line buffer is sent first, so the order is kept.
 */
void hl_print_n(const char *text, size_t len);

/** {@link hl_print_n} for a NUL-terminated string. */
void hl_print(const char *text);

/**
 * Ends the run with `GuestAbortedError(code, message)`; the sandbox is
 * poisoned. Messages longer than the output buffer are sent in ABORT_CHUNK
 * pieces. Codes >= HL_ABORT_CODE_RESERVED_MIN are reserved for the runtime.
 *
 * @param message - the text (NULL for none)
 */
HL_NORETURN void hl_abort(uint32_t code, const char *message);

/**
 * {@link hl_abort} with a printf-formatted message of any length (cut to
 * 1 KiB only when a longer one does not fit in the heap).
 */
HL_NORETURN void hl_abortf(uint32_t code, const char *fmt, ...) HL_PRINTF(2, 3);

/** Aborts with HL_ABORT_CODE_PANIC and a printf-formatted message (a guest panic; lengths as {@link hl_abortf}). */
HL_NORETURN void hl_panic(const char *fmt, ...) HL_PRINTF(1, 2);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

/** Log levels, least to most severe; the wire's `hyperlight.wire.LogLevel`. */
typedef enum hl_log_level {
  HL_LOG_TRACE = 0,    /**< Very detailed tracing. */
  HL_LOG_DEBUG = 1,    /**< Debugging detail. */
  HL_LOG_INFO = 2,     /**< Normal operation. */
  HL_LOG_WARN = 3,     /**< Something unexpected but handled. */
  HL_LOG_ERROR = 4,    /**< An operation failed. */
  HL_LOG_CRITICAL = 5, /**< The guest cannot go on. */
  HL_LOG_OFF = 6,      /**< As max level: log nothing. */
} hl_log_level;

/** The target string HL_LOG attaches; define it before including this header to change it. */
#ifndef HL_LOG_TARGET
#define HL_LOG_TARGET "guest"
#endif

/**
 * Logs a printf-formatted message at `level` with the caller's file and line.
 * Records go to the PEB's log area and reach the host on the next exit (no
 * exit of their own unless the area is full); levels below the host's
 * `max_log_level` are dropped without formatting.
 *
 * @example `HL_LOG(HL_LOG_INFO, "loaded %zu items", n);`
 */
#define HL_LOG(level, ...) hl_log((level), HL_LOG_TARGET, __FILE__, __LINE__, __VA_ARGS__)

/** The function behind {@link HL_LOG}; `target` and `file` may be NULL. */
void hl_log(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, ...)
    HL_PRINTF(5, 6);

/** {@link hl_log} with a `va_list`. */
void hl_vlog(hl_log_level level, const char *target, const char *file, uint32_t line, const char *fmt, va_list ap);

/** @returns true when a record at `level` would be written (the host's max_log_level allows it). */
bool hl_log_enabled(hl_log_level level);

/* ------------------------------------------------------------------------ */
/* Environment                                                               */
/* ------------------------------------------------------------------------ */

/**
 * @returns the read-only init data blob given at sandbox creation, or NULL
 * when there is none.
 * @param size - receives its size in bytes; may be NULL
 */
const void *hl_init_data(size_t *size);

/** @returns the PEB of the current run (read-only; see docs/abi.md). */
const hl_peb *hl_get_peb(void);

/**
 * The ELF entry point, implemented by the runtime (the same for Rust guests):
 * the host enters here with `rdi` = PEB and `rsi` = `HL_OP_INIT` or
 * `HL_OP_CALL` (docs/abi.md). Not for user code to call.
 */
HL_NORETURN void hyperlight_entry(const hl_peb *peb, uint64_t op);

#ifdef __cplusplus
}
#endif

#endif /* HYPERLIGHT_GUEST_H */
