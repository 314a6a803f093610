/*
 * Cross-language check of the wire messages, C side: the C guest runtime's
 * own FlatBuffers code (packages/guest-c, src/fb.c and src/wire.c), compiled
 * for the build machine, answers line commands from cross-language.test.ts.
 * The commands and answers are those of wire_golden.rs (see there).
 *
 * Built by the test with gcc together with fb.c and wire.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../../guest-c/src/wire.h"

/* Longest command line: a 1 MiB byte array in hex, plus change. */
#define MAX_LINE ((size_t)(4u << 20))

static uint8_t frame[2u << 20];
static uint8_t decoded[2u << 20];

static void die(const char *why, const char *what) {
  fprintf(stderr, "wire_golden: %s: %.80s\n", why, what);
  exit(2);
}

static int nibble(char c, const char *text) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  die("bad hex", text);
  return 0;
}

static size_t unhex(const char *text, size_t len, uint8_t *out, size_t cap) {
  if (len % 2 != 0 || len / 2 > cap) die("bad hex", text);
  for (size_t i = 0; i < len / 2; i++) out[i] = (uint8_t)(nibble(text[2 * i], text) << 4 | nibble(text[2 * i + 1], text));
  return len / 2;
}

static void put_hex(const uint8_t *bytes, size_t len) {
  for (size_t i = 0; i < len; i++) printf("%02x", bytes[i]);
}

/* Parses `kind:data` into `v`; string and byte data are decoded into `store`. */
static void parse_value(char *text, hl_value *v, uint8_t *store, size_t cap) {
  char *data = strchr(text, ':');
  if (data) *data++ = '\0';
  else data = text + strlen(text);
  if (!strcmp(text, "i32")) *v = hl_i32((int32_t)strtol(data, NULL, 10));
  else if (!strcmp(text, "u32")) *v = hl_u32((uint32_t)strtoul(data, NULL, 10));
  else if (!strcmp(text, "i64")) *v = hl_i64((int64_t)strtoll(data, NULL, 10));
  else if (!strcmp(text, "u64")) *v = hl_u64((uint64_t)strtoull(data, NULL, 10));
  else if (!strcmp(text, "f32")) {
    uint32_t bits = (uint32_t)strtoul(data, NULL, 16);
    float f;
    memcpy(&f, &bits, 4);
    *v = hl_f32(f);
  } else if (!strcmp(text, "f64")) {
    uint64_t bits = strtoull(data, NULL, 16);
    double d;
    memcpy(&d, &bits, 8);
    *v = hl_f64(d);
  } else if (!strcmp(text, "string")) *v = hl_string_n((const char *)store, unhex(data, strlen(data), store, cap));
  else if (!strcmp(text, "bool")) *v = hl_bool(!strcmp(data, "1"));
  else if (!strcmp(text, "bytes")) *v = hl_bytes(store, unhex(data, strlen(data), store, cap));
  else if (!strcmp(text, "void")) *v = hl_void();
  else die("unknown value", text);
}

static void show_value(const hl_value *v) {
  switch (v->type) {
    case HL_TYPE_I32: printf("i32:%" PRId32, v->as.i32); break;
    case HL_TYPE_U32: printf("u32:%" PRIu32, v->as.u32); break;
    case HL_TYPE_I64: printf("i64:%" PRId64, v->as.i64); break;
    case HL_TYPE_U64: printf("u64:%" PRIu64, v->as.u64); break;
    case HL_TYPE_F32: {
      uint32_t bits;
      memcpy(&bits, &v->as.f32, 4);
      printf("f32:%08" PRIx32, bits);
      break;
    }
    case HL_TYPE_F64: {
      uint64_t bits;
      memcpy(&bits, &v->as.f64, 8);
      printf("f64:%016" PRIx64, bits);
      break;
    }
    case HL_TYPE_STRING: printf("string:"); put_hex((const uint8_t *)v->as.string.data, v->as.string.len); break;
    case HL_TYPE_BOOL: printf("bool:%d", v->as.boolean ? 1 : 0); break;
    case HL_TYPE_BYTES: printf("bytes:"); put_hex(v->as.bytes.data, v->as.bytes.len); break;
    case HL_TYPE_VOID: printf("void"); break;
    default: printf("?%d", (int)v->type);
  }
}

/* `ok <value>` or `err <code> <message hex>` -> the frame in hex. */
static void encode_result(char *args) {
  hl_result r;
  memset(&r, 0, sizeof r);
  char *rest = strchr(args, ' ');
  if (!rest) die("bad result command", args);
  *rest++ = '\0';
  if (!strcmp(args, "ok")) {
    r = hl_ok(hl_void());
    parse_value(rest, &r.value, decoded, sizeof decoded);
  } else if (!strcmp(args, "err")) {
    char *message = strchr(rest, ' ');
    if (!message) die("bad error command", rest);
    *message++ = '\0';
    r.error = (hl_error_code)strtoul(rest, NULL, 10);
    /* The C API takes a NUL-terminated message. */
    size_t len = unhex(message, strlen(message), decoded, sizeof decoded - 1);
    decoded[len] = '\0';
    r.message = (const char *)decoded;
  } else {
    die("bad result command", args);
  }
  size_t n = hl_wire_encode_result(frame, sizeof frame, &r);
  if (n == 0) die("result does not fit", args);
  put_hex(frame, n);
}

/* `<frame hex>` -> `<name hex> <return type> <count> <value>...` or `malformed <why>`. */
static void decode_call(const char *hex) {
  size_t size = unhex(hex, strlen(hex), frame, sizeof frame);
  const uint8_t *payload;
  size_t len;
  hl_wire_call call;
  const char *bad = hl_wire_frame(frame, size, &payload, &len);
  if (!bad) bad = hl_wire_decode_call(payload, len, &call);
  if (bad) {
    printf("malformed %s", bad);
    return;
  }
  put_hex((const uint8_t *)call.name, call.name_len);
  printf(" %d %" PRIu32, (int)call.return_type, call.args.count);
  for (uint32_t i = 0; i < call.args.count; i++) {
    hl_value v;
    bad = hl_wire_decode_arg(&call, i, &v);
    if (bad) {
      printf(" malformed %s", bad);
      return;
    }
    printf(" ");
    show_value(&v);
  }
}

/* `<name hex> <return type> <value>...` -> the FunctionCall frame of a host call in hex. */
static void encode_host_call(char *args) {
  static hl_value values[HL_MAX_GUEST_FUNCTION_PARAMETERS + 1];
  char *name = strtok(args, " ");
  char *type = strtok(NULL, " ");
  if (!name || !type) die("bad hostcall command", args);
  /* Each value's string or bytes are decoded into their own part of `decoded`, after the name. */
  size_t used = unhex(name, strlen(name), decoded, sizeof decoded);
  size_t count = 0;
  for (char *value = strtok(NULL, " "); value; value = strtok(NULL, " ")) {
    if (count == sizeof values / sizeof values[0]) die("too many arguments", value);
    parse_value(value, &values[count++], decoded + used, sizeof decoded - used);
    if (values[count - 1].type == HL_TYPE_STRING) used += values[count - 1].as.string.len;
    if (values[count - 1].type == HL_TYPE_BYTES) used += values[count - 1].as.bytes.len;
  }
  size_t n = hl_wire_encode_call(frame, sizeof frame, (const char *)decoded, strlen(name) / 2, values, count,
                                 (hl_type)strtoul(type, NULL, 10));
  if (n == 0) die("call does not fit", name);
  put_hex(frame, n);
}

/* `<frame hex>` -> `ok <value>`, `err <code> <message hex>` or `malformed <why>`. */
static void decode_reply(const char *hex) {
  size_t size = unhex(hex, strlen(hex), frame, sizeof frame);
  const uint8_t *payload;
  size_t len;
  hl_result r;
  uint32_t message_len;
  const char *bad = hl_wire_frame(frame, size, &payload, &len);
  if (!bad) bad = hl_wire_decode_result(payload, len, &r, &message_len);
  if (bad) {
    printf("malformed %s", bad);
  } else if (r.error == HL_ERROR_NONE) {
    printf("ok ");
    show_value(&r.value);
  } else {
    printf("err %d ", (int)r.error);
    put_hex((const uint8_t *)r.message, message_len);
  }
}

int main(void) {
  char *line = malloc(MAX_LINE);
  if (!line) die("out of memory", "");
  while (fgets(line, (int)MAX_LINE, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    if (!strncmp(line, "result ", 7)) encode_result(line + 7);
    else if (!strncmp(line, "call ", 5)) decode_call(line + 5);
    else if (!strncmp(line, "hostcall ", 9)) encode_host_call(line + 9);
    else if (!strncmp(line, "reply ", 6)) decode_reply(line + 6);
    else die("bad command", line);
    printf("\n");
  }
  free(line);
  return 0;
}
