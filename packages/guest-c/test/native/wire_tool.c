/*
 * Bridge between our wire code and flatc (the reference FlatBuffers
 * implementation), used by test/run.mjs:
 *
 *   wire_tool encode <kind> <out.bin>   writes a fixed sample message
 *   wire_tool decode <kind> <in.bin>    prints what our decoder reads
 *
 * kind: call | result | error | details | log. run.mjs turns our binaries
 * into JSON with flatc and turns flatc-built binaries into ours.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/wire.h"

static uint8_t buf[1 << 16];

static void print_value(const hl_value *v) {
  switch (v->type) {
    case HL_TYPE_I32: printf("i32 %d\n", v->as.i32); break;
    case HL_TYPE_U32: printf("u32 %u\n", v->as.u32); break;
    case HL_TYPE_I64: printf("i64 %" PRId64 "\n", v->as.i64); break;
    case HL_TYPE_U64: printf("u64 %" PRIu64 "\n", v->as.u64); break;
    case HL_TYPE_F32: printf("f32 %.9g\n", (double)v->as.f32); break;
    case HL_TYPE_F64: printf("f64 %.17g\n", v->as.f64); break;
    case HL_TYPE_STRING: printf("string %.*s\n", (int)v->as.string.len, v->as.string.data); break;
    case HL_TYPE_BOOL: printf("bool %d\n", v->as.boolean); break;
    case HL_TYPE_BYTES:
      printf("bytes");
      for (size_t i = 0; i < v->as.bytes.len; i++) printf(" %u", v->as.bytes.data[i]);
      printf("\n");
      break;
    case HL_TYPE_VOID: printf("void\n"); break;
    default: printf("?\n");
  }
}

static int encode(const char *kind, const char *path) {
  static const uint8_t bytes[] = {1, 2, 255};
  hl_value args[9] = {hl_i32(-7), hl_u32(4000000000u), hl_i64(-9000000000000000000LL), hl_u64(18000000000000000000ULL),
                      hl_f32(-0.0f), hl_f64(-0.0), hl_string("h\xc3\xa9llo"), hl_bool(false), hl_bytes(bytes, 3)};
  size_t n = 0;
  if (!strcmp(kind, "call")) n = hl_wire_encode_call(buf, sizeof buf, "Echo", 4, args, 9, HL_TYPE_I32);
  if (!strcmp(kind, "result")) {
    hl_result r = hl_ok(hl_f64(-0.0));
    n = hl_wire_encode_result(buf, sizeof buf, &r);
  }
  if (!strcmp(kind, "error")) {
    hl_result r = {HL_ERROR_WRONG_ARGUMENT_TYPE, "bad type", {HL_TYPE_NONE, {.u64 = 0}}};
    n = hl_wire_encode_result(buf, sizeof buf, &r);
  }
  if (!strcmp(kind, "details")) {
    hl_wire_signature sigs[2] = {{"Add", HL_TYPE_I32, 2, {HL_TYPE_I32, HL_TYPE_I32}}, {"Nothing", HL_TYPE_VOID, 0, {0}}};
    hl_fb_ref scratch[2];
    n = hl_wire_encode_details(buf, sizeof buf, sigs, 2, scratch);
  }
  if (!strcmp(kind, "log")) n = hl_wire_encode_log(buf, sizeof buf, HL_LOG_INFO, "hello", 5, "guest", "main.c", 7);
  if (!n) return fprintf(stderr, "encode %s failed\n", kind), 1;
  FILE *f = fopen(path, "wb");
  fwrite(buf, 1, n, f);
  fclose(f);
  return 0;
}

static int decode(const char *kind, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return perror(path), 1;
  size_t total = fread(buf, 1, sizeof buf, f);
  fclose(f);
  const uint8_t *p;
  size_t len;
  const char *bad = hl_wire_frame(buf, total, &p, &len);
  if (!bad && !strcmp(kind, "call")) {
    hl_wire_call call;
    bad = hl_wire_decode_call(p, len, &call);
    if (!bad) printf("name %.*s\nreturn %d\n", (int)call.name_len, call.name, call.return_type);
    for (uint32_t i = 0; !bad && i < call.args.count; i++) {
      hl_value v;
      bad = hl_wire_decode_arg(&call, i, &v);
      if (!bad) print_value(&v);
    }
  } else if (!bad) {
    hl_result r;
    uint32_t mlen;
    bad = hl_wire_decode_result(p, len, &r, &mlen);
    if (!bad && r.error) printf("error %d %.*s\n", r.error, (int)mlen, r.message);
    else if (!bad) print_value(&r.value);
  }
  if (bad) printf("malformed: %s\n", bad);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: wire_tool encode|decode kind file\n"), 2;
  return !strcmp(argv[1], "encode") ? encode(argv[2], argv[3]) : decode(argv[2], argv[3]);
}
