/* hyperlight.wire messages over fb.c; see wire.h and docs/abi.md. */
#include "wire.h"

#include <string.h>

/* Field ids, in schema declaration order. */
enum {
  ARGUMENT_VALUE_TYPE = 0, ARGUMENT_VALUE = 1,
  CALL_NAME = 0, CALL_ARGUMENTS = 1, CALL_RETURN_TYPE = 2,
  RESULT_OUTCOME_TYPE = 0, RESULT_OUTCOME = 1,
  RETURN_VALUE_TYPE = 0, RETURN_VALUE = 1,
  ERROR_CODE = 0, ERROR_MESSAGE = 1,
  DETAILS_FUNCTIONS = 0,
  SIGNATURE_NAME = 0, SIGNATURE_PARAMETERS = 1, SIGNATURE_RETURN_TYPE = 2,
  LOG_LEVEL = 0, LOG_MESSAGE = 1, LOG_TARGET = 2, LOG_SOURCE_FILE = 3, LOG_LINE = 4,
  VALUE_FIELD = 0, /* the single `value` field of every *Value table */
};

const char *hl_wire_frame(const uint8_t *buffer, size_t size, const uint8_t **payload, size_t *len) {
  uint32_t n;
  if (size < HL_FRAME_HEADER_SIZE) return "buffer smaller than a frame header";
  __builtin_memcpy(&n, buffer, 4); /* one load: see fb.c */
  if (n > size - HL_FRAME_HEADER_SIZE) return "frame length exceeds the buffer";
  *payload = buffer + HL_FRAME_HEADER_SIZE;
  *len = n;
  return NULL;
}

/* ---- decoding ------------------------------------------------------------ */

/* Reads a `Value` union stored as fields (type_id, type_id + 1) of `holder`. */
static const char *decode_value(const hl_fb_table *holder, unsigned type_id, hl_value *out) {
  uint8_t tag = 0, zero = 0;
  hl_fb_table v;
  bool present;
  if (!hl_fb_scalar(holder, type_id, 1, &zero, &tag)) return "bad value type field";
  if (tag < HL_TYPE_I32 || tag > HL_TYPE_VOID) return "unknown value type";
  if (!hl_fb_subtable(holder, type_id + 1, &v, &present)) return "bad value table";
  if (!present) return "missing value";
  static const uint64_t zero64 = 0;
  *out = (hl_value){0};
  out->type = (hl_type)tag;
  switch (out->type) {
    case HL_TYPE_I32: case HL_TYPE_U32: case HL_TYPE_F32:
      if (!hl_fb_scalar(&v, VALUE_FIELD, 4, &zero64, &out->as)) return "bad scalar value";
      return NULL;
    case HL_TYPE_I64: case HL_TYPE_U64: case HL_TYPE_F64:
      if (!hl_fb_scalar(&v, VALUE_FIELD, 8, &zero64, &out->as)) return "bad scalar value";
      return NULL;
    case HL_TYPE_BOOL: {
      uint8_t b;
      if (!hl_fb_scalar(&v, VALUE_FIELD, 1, &zero64, &b)) return "bad bool value";
      out->as.boolean = b != 0;
      return NULL;
    }
    case HL_TYPE_STRING: {
      const char *s;
      uint32_t n;
      if (!hl_fb_string(&v, VALUE_FIELD, &s, &n, &present)) return "bad string value";
      if (!present) return "missing string value";
      out->as.string.data = s;
      out->as.string.len = n;
      return NULL;
    }
    case HL_TYPE_BYTES: {
      hl_fb_vector bytes;
      if (!hl_fb_vector_field(&v, VALUE_FIELD, 1, &bytes, &present)) return "bad bytes value";
      if (!present) return "missing bytes value";
      out->as.bytes.data = bytes.buf + bytes.pos;
      out->as.bytes.len = bytes.count;
      return NULL;
    }
    default: /* HL_TYPE_VOID: VoidValue has no fields */
      return NULL;
  }
}

const char *hl_wire_decode_call(const uint8_t *fb, size_t len, hl_wire_call *out) {
  hl_fb_table t;
  bool present;
  uint8_t ret, none = HL_TYPE_NONE;
  *out = (hl_wire_call){0};
  if (!hl_fb_root(fb, len, &t)) return "bad root table";
  if (!hl_fb_string(&t, CALL_NAME, &out->name, &out->name_len, &present)) return "bad function_name";
  if (!present) return "missing function_name";
  if (!hl_fb_vector_field(&t, CALL_ARGUMENTS, 4, &out->args, &present)) return "bad arguments vector";
  if (!hl_fb_scalar(&t, CALL_RETURN_TYPE, 1, &none, &ret)) return "bad return_type";
  if (ret > HL_TYPE_VOID) return "unknown return_type";
  out->return_type = (hl_type)ret;
  return NULL;
}

const char *hl_wire_decode_arg(const hl_wire_call *call, uint32_t i, hl_value *out) {
  hl_fb_table arg;
  if (!hl_fb_vector_table(&call->args, i, &arg)) return "bad argument table";
  return decode_value(&arg, ARGUMENT_VALUE_TYPE, out);
}

const char *hl_wire_decode_result(const uint8_t *fb, size_t len, hl_result *out, uint32_t *message_len) {
  hl_fb_table t, outcome;
  bool present;
  uint8_t tag, zero = 0;
  *out = (hl_result){0};
  *message_len = 0;
  if (!hl_fb_root(fb, len, &t)) return "bad root table";
  if (!hl_fb_scalar(&t, RESULT_OUTCOME_TYPE, 1, &zero, &tag)) return "bad outcome type";
  if (!hl_fb_subtable(&t, RESULT_OUTCOME, &outcome, &present)) return "bad outcome table";
  if (!present) return "missing outcome";
  if (tag == HL_WIRE_OUTCOME_RETURN_VALUE) return decode_value(&outcome, RETURN_VALUE_TYPE, &out->value);
  if (tag != HL_WIRE_OUTCOME_CALL_ERROR) return "unknown outcome type";
  uint32_t code, none = HL_ERROR_NONE;
  if (!hl_fb_scalar(&outcome, ERROR_CODE, 4, &none, &code)) return "bad error code";
  /* An error must stay an error, even if the sender forgot the code. */
  out->error = code == HL_ERROR_NONE ? HL_ERROR_HOST_FUNCTION_FAILED : (hl_error_code)code;
  if (!hl_fb_string(&outcome, ERROR_MESSAGE, &out->message, message_len, &present)) return "bad error message";
  if (!present) out->message = "";
  return NULL;
}

/* ---- encoding ------------------------------------------------------------ */

/* Writes the *Value table for `v`; its union tag is v->type. */
static hl_fb_ref encode_value(hl_fb_builder *b, const hl_value *v) {
  hl_fb_ref data = 0;
  if (v->type == HL_TYPE_STRING) data = hl_fb_create_string(b, v->as.string.data, v->as.string.len);
  if (v->type == HL_TYPE_BYTES) data = hl_fb_create_vector(b, v->as.bytes.data, v->as.bytes.len, 1);
  hl_fb_start_table(b);
  switch (v->type) {
    case HL_TYPE_I32: case HL_TYPE_U32: case HL_TYPE_F32: hl_fb_add_scalar(b, VALUE_FIELD, &v->as, 4); break;
    case HL_TYPE_I64: case HL_TYPE_U64: case HL_TYPE_F64: hl_fb_add_scalar(b, VALUE_FIELD, &v->as, 8); break;
    case HL_TYPE_BOOL: {
      uint8_t x = v->as.boolean ? 1 : 0;
      hl_fb_add_scalar(b, VALUE_FIELD, &x, 1);
      break;
    }
    case HL_TYPE_STRING: case HL_TYPE_BYTES: hl_fb_add_ref(b, VALUE_FIELD, data); break;
    case HL_TYPE_VOID: break;
    default: b->failed = true; break; /* NONE or garbage has no wire form */
  }
  return hl_fb_end_table(b);
}

/* Writes a table holding a `Value` union at (type_id, type_id + 1). */
static hl_fb_ref encode_value_holder(hl_fb_builder *b, const hl_value *v, unsigned type_id) {
  hl_fb_ref value = encode_value(b, v);
  uint8_t tag = (uint8_t)v->type;
  hl_fb_start_table(b);
  hl_fb_add_ref(b, type_id + 1, value);
  hl_fb_add_scalar(b, type_id, &tag, 1);
  return hl_fb_end_table(b);
}

size_t hl_wire_encode_call(void *region, size_t cap, const char *name, size_t name_len, const hl_value *args,
                           size_t argc, hl_type return_type) {
  hl_fb_builder b;
  hl_fb_ref refs[HL_MAX_GUEST_FUNCTION_PARAMETERS];
  if (argc > HL_MAX_GUEST_FUNCTION_PARAMETERS) return 0;
  hl_fb_init(&b, region, cap);
  for (size_t i = 0; i < argc; i++) refs[i] = encode_value_holder(&b, &args[i], ARGUMENT_VALUE_TYPE);
  hl_fb_ref vec = hl_fb_create_ref_vector(&b, refs, argc);
  hl_fb_ref fname = hl_fb_create_string(&b, name, name_len);
  uint8_t ret = (uint8_t)return_type;
  hl_fb_start_table(&b);
  hl_fb_add_ref(&b, CALL_NAME, fname);
  hl_fb_add_ref(&b, CALL_ARGUMENTS, vec);
  hl_fb_add_scalar(&b, CALL_RETURN_TYPE, &ret, 1);
  return hl_fb_finish(&b, hl_fb_end_table(&b));
}

size_t hl_wire_encode_result(void *region, size_t cap, const hl_result *r) {
  hl_fb_builder b;
  hl_fb_ref outcome;
  uint8_t tag;
  hl_fb_init(&b, region, cap);
  if (r->error == HL_ERROR_NONE) {
    outcome = encode_value_holder(&b, &r->value, RETURN_VALUE_TYPE);
    tag = HL_WIRE_OUTCOME_RETURN_VALUE;
  } else {
    const char *m = r->message ? r->message : "";
    hl_fb_ref msg = hl_fb_create_string(&b, m, strlen(m));
    uint32_t code = (uint32_t)r->error;
    hl_fb_start_table(&b);
    hl_fb_add_scalar(&b, ERROR_CODE, &code, 4);
    hl_fb_add_ref(&b, ERROR_MESSAGE, msg);
    outcome = hl_fb_end_table(&b);
    tag = HL_WIRE_OUTCOME_CALL_ERROR;
  }
  hl_fb_start_table(&b);
  hl_fb_add_ref(&b, RESULT_OUTCOME, outcome);
  hl_fb_add_scalar(&b, RESULT_OUTCOME_TYPE, &tag, 1);
  return hl_fb_finish(&b, hl_fb_end_table(&b));
}

size_t hl_wire_encode_details(void *region, size_t cap, const hl_wire_signature *fns, size_t count,
                              hl_fb_ref *scratch) {
  hl_fb_builder b;
  hl_fb_init(&b, region, cap);
  for (size_t i = 0; i < count; i++) {
    const hl_wire_signature *f = &fns[i];
    hl_fb_ref params = hl_fb_create_vector(&b, f->params, f->param_count, 1);
    hl_fb_ref name = hl_fb_create_string(&b, f->name, strlen(f->name));
    uint8_t ret = (uint8_t)f->return_type;
    hl_fb_start_table(&b);
    hl_fb_add_ref(&b, SIGNATURE_NAME, name);
    hl_fb_add_ref(&b, SIGNATURE_PARAMETERS, params);
    hl_fb_add_scalar(&b, SIGNATURE_RETURN_TYPE, &ret, 1);
    scratch[i] = hl_fb_end_table(&b);
  }
  hl_fb_ref vec = hl_fb_create_ref_vector(&b, scratch, count);
  hl_fb_start_table(&b);
  hl_fb_add_ref(&b, DETAILS_FUNCTIONS, vec);
  return hl_fb_finish(&b, hl_fb_end_table(&b));
}

size_t hl_wire_encode_log(void *region, size_t cap, hl_log_level level, const char *message, size_t message_len,
                          const char *target, const char *file, uint32_t line) {
  hl_fb_builder b;
  hl_fb_init(&b, region, cap);
  hl_fb_ref msg = hl_fb_create_string(&b, message, message_len);
  hl_fb_ref tgt = target ? hl_fb_create_string(&b, target, strlen(target)) : 0;
  hl_fb_ref src = file ? hl_fb_create_string(&b, file, strlen(file)) : 0;
  uint8_t lvl = (uint8_t)level;
  hl_fb_start_table(&b);
  hl_fb_add_ref(&b, LOG_MESSAGE, msg);
  if (tgt) hl_fb_add_ref(&b, LOG_TARGET, tgt);
  if (src) hl_fb_add_ref(&b, LOG_SOURCE_FILE, src);
  hl_fb_add_scalar(&b, LOG_LINE, &line, 4);
  hl_fb_add_scalar(&b, LOG_LEVEL, &lvl, 1);
  return hl_fb_finish(&b, hl_fb_end_table(&b));
}
