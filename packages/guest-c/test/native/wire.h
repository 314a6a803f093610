/*
 * Encoders and decoders for the messages of the schema/ .fbs files (namespace
 * hyperlight.wire), on top of fb.h. Field ids below are declaration order in
 * the schema; a union field `x` occupies two ids: `x_type` then `x`.
 *
 * Decoders return NULL on success or a short static description of what is
 * malformed; decoded strings and bytes point into the message (borrowed).
 */
#ifndef HL_WIRE_H
#define HL_WIRE_H

#include <hyperlight/guest.h>

#include "fb.h"

/* Union tags of `Outcome` (function_call_result.fbs). */
#define HL_WIRE_OUTCOME_RETURN_VALUE 1
#define HL_WIRE_OUTCOME_CALL_ERROR 2

/** A decoded FunctionCall; `args` is the vector of Argument tables. */
typedef struct hl_wire_call {
  const char *name;
  uint32_t name_len;
  hl_fb_vector args; /* count 0 when absent */
  hl_type return_type;
} hl_wire_call;

/**
 * Reads the frame at the start of a `size`-byte buffer: u32 length N, then N
 * bytes. @returns NULL and sets payload/len, or an error text.
 */
const char *hl_wire_frame(const uint8_t *buffer, size_t size, const uint8_t **payload, size_t *len);

const char *hl_wire_decode_call(const uint8_t *fb, size_t len, hl_wire_call *out);
/** Decodes argument `i` of a call (borrowed strings/bytes). */
const char *hl_wire_decode_arg(const hl_wire_call *call, uint32_t i, hl_value *out);
/**
 * Decodes a FunctionCallResult: on success `out->error` is HL_ERROR_NONE and
 * `out->value` is set; for a CallError `out->error`/`out->message`
 * (borrowed, `*message_len` bytes, not NUL-terminated) are set.
 */
const char *hl_wire_decode_result(const uint8_t *fb, size_t len, hl_result *out, uint32_t *message_len);

/** Each encoder builds a size-prefixed message in `region`; @returns its size or 0 if it does not fit. */
size_t hl_wire_encode_call(void *region, size_t cap, const char *name, size_t name_len, const hl_value *args,
                           size_t argc, hl_type return_type);
/** `r->message` of an error result may be NULL (encoded as no message). */
size_t hl_wire_encode_result(void *region, size_t cap, const hl_result *r);

/** One entry of GuestFunctionDetails. */
typedef struct hl_wire_signature {
  const char *name;
  hl_type return_type;
  uint8_t param_count;
  uint8_t params[HL_MAX_GUEST_FUNCTION_PARAMETERS];
} hl_wire_signature;

/** `scratch` holds `count` refs while the table is built. */
size_t hl_wire_encode_details(void *region, size_t cap, const hl_wire_signature *fns, size_t count,
                              hl_fb_ref *scratch);
size_t hl_wire_encode_log(void *region, size_t cap, hl_log_level level, const char *message, size_t message_len,
                          const char *target, const char *file, uint32_t line);

#endif /* HL_WIRE_H */
