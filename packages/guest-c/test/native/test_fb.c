/* FlatBuffers reader/builder and the wire messages (src/fb.c, src/wire.c).
 * Interop with the reference implementation (flatc) is checked separately by
 * test/run.mjs through wire_tool.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/wire.h"
#include "check.h"

static uint8_t region[1 << 16];

static hl_value sample_args[9];
static void init_samples(void) {
  static const uint8_t bytes[] = {0, 1, 2, 254, 255};
  sample_args[0] = hl_i32(INT32_MIN);
  sample_args[1] = hl_u32(UINT32_MAX);
  sample_args[2] = hl_i64(INT64_MIN);
  sample_args[3] = hl_u64(UINT64_MAX);
  sample_args[4] = hl_f32(-0.0f);
  sample_args[5] = hl_f64(-0.0);
  sample_args[6] = hl_string_n("a\0b \xc3\xa9", 6); /* embedded NUL and UTF-8 */
  sample_args[7] = hl_bool(true);
  sample_args[8] = hl_bytes(bytes, sizeof bytes);
}

static bool same_value(const hl_value *a, const hl_value *b) {
  if (a->type != b->type) return false;
  switch (a->type) {
    case HL_TYPE_STRING:
      return a->as.string.len == b->as.string.len && !memcmp(a->as.string.data, b->as.string.data, a->as.string.len);
    case HL_TYPE_BYTES:
      return a->as.bytes.len == b->as.bytes.len && !memcmp(a->as.bytes.data, b->as.bytes.data, a->as.bytes.len);
    case HL_TYPE_BOOL: return a->as.boolean == b->as.boolean;
    case HL_TYPE_I32: case HL_TYPE_U32: case HL_TYPE_F32: return !memcmp(&a->as, &b->as, 4);
    case HL_TYPE_VOID: return true;
    default: return !memcmp(&a->as, &b->as, 8);
  }
}

/* Frame = u32 length + payload; checks the length and returns the payload. */
static const uint8_t *payload_of(size_t total, size_t *len) {
  const uint8_t *p;
  const char *bad = hl_wire_frame(region, total, &p, len);
  CHECK(!bad, "frame: %s", bad ? bad : "");
  CHECK(*len + 4 == total, "frame length %zu for %zu bytes", *len, total);
  return p;
}

TEST(function_call_round_trips_every_type) {
  init_samples();
  size_t total = hl_wire_encode_call(region, sizeof region, "Echo", 4, sample_args, 9, HL_TYPE_STRING);
  CHECK(total > 0 && total % 8 == 0, "encode: %zu", total);
  size_t len;
  const uint8_t *p = payload_of(total, &len);
  hl_wire_call call;
  const char *bad = hl_wire_decode_call(p, len, &call);
  CHECK(!bad, "decode: %s", bad ? bad : "");
  CHECK(call.name_len == 4 && !memcmp(call.name, "Echo", 4) && call.name[4] == 0, "name");
  CHECK(call.args.count == 9 && call.return_type == HL_TYPE_STRING, "count %u, return %d", call.args.count, call.return_type);
  for (uint32_t i = 0; i < 9; i++) {
    hl_value v;
    bad = hl_wire_decode_arg(&call, i, &v);
    CHECK(!bad && same_value(&v, &sample_args[i]), "argument %u: %s", i, bad ? bad : "differs");
  }
  CHECK(signbit(sample_args[5].as.f64), "-0.0 kept its sign");
  total = hl_wire_encode_call(region, sizeof region, "NoArgs", 6, NULL, 0, HL_TYPE_VOID);
  p = payload_of(total, &len);
  CHECK(!hl_wire_decode_call(p, len, &call) && call.args.count == 0 && call.return_type == HL_TYPE_VOID, "no arguments");
}

TEST(function_call_result_round_trips) {
  init_samples();
  for (int i = 0; i < 10; i++) {
    hl_result r = hl_ok(i < 9 ? sample_args[i] : hl_void());
    size_t total = hl_wire_encode_result(region, sizeof region, &r);
    size_t len;
    const uint8_t *p = payload_of(total, &len);
    hl_result back;
    uint32_t mlen;
    const char *bad = hl_wire_decode_result(p, len, &back, &mlen);
    CHECK(!bad && back.error == HL_ERROR_NONE && same_value(&back.value, &r.value), "value %d: %s", i, bad ? bad : "differs");
  }
  hl_result e = {HL_ERROR_GUEST_FUNCTION_FAILED, "it broke", {HL_TYPE_NONE, {.u64 = 0}}};
  size_t total = hl_wire_encode_result(region, sizeof region, &e), len;
  const uint8_t *p = payload_of(total, &len);
  hl_result back;
  uint32_t mlen;
  CHECK(!hl_wire_decode_result(p, len, &back, &mlen) && back.error == HL_ERROR_GUEST_FUNCTION_FAILED && mlen == 8 &&
            !memcmp(back.message, "it broke", 8),
        "error result");
}

TEST(builder_reports_every_short_region) {
  init_samples();
  size_t need = hl_wire_encode_call(region, sizeof region, "Echo", 4, sample_args, 9, HL_TYPE_STRING);
  static uint8_t small[4096];
  for (size_t cap = 0; cap < need; cap++)
    CHECK(hl_wire_encode_call(small, cap, "Echo", 4, sample_args, 9, HL_TYPE_STRING) == 0, "cap %zu < %zu succeeded", cap, need);
  CHECK(hl_wire_encode_call(small, need, "Echo", 4, sample_args, 9, HL_TYPE_STRING) == need, "exact size fails");
  CHECK(!memcmp(small, region, need), "output depends on the region size");
}

TEST(guest_function_details_encode) {
  hl_wire_signature sigs[2] = {{"Add", HL_TYPE_I32, 2, {HL_TYPE_I32, HL_TYPE_I32}}, {"Nothing", HL_TYPE_VOID, 0, {0}}};
  hl_fb_ref scratch[2];
  size_t total = hl_wire_encode_details(region, sizeof region, sigs, 2, scratch), len;
  const uint8_t *p = payload_of(total, &len);
  hl_fb_table root, sig;
  hl_fb_vector fns, params;
  bool present;
  CHECK(hl_fb_root(p, len, &root) && hl_fb_vector_field(&root, 0, 4, &fns, &present) && present && fns.count == 2, "functions");
  const char *name;
  uint32_t nlen;
  uint8_t ret, def = 10;
  CHECK(hl_fb_vector_table(&fns, 0, &sig) && hl_fb_string(&sig, 0, &name, &nlen, &present) && nlen == 3 && !memcmp(name, "Add", 3),
        "name 0");
  CHECK(hl_fb_vector_field(&sig, 1, 1, &params, &present) && params.count == 2 && p[params.pos] == HL_TYPE_I32, "params 0");
  CHECK(hl_fb_scalar(&sig, 2, 1, &def, &ret) && ret == HL_TYPE_I32, "return 0");
  CHECK(hl_fb_vector_table(&fns, 1, &sig) && hl_fb_scalar(&sig, 2, 1, &def, &ret) && ret == HL_TYPE_VOID, "return 1");
  CHECK(hl_fb_has(&sig, 2), "a default-valued scalar (Void) is still written");
}

TEST(log_record_encodes_all_fields) {
  size_t total = hl_wire_encode_log(region, sizeof region, HL_LOG_WARN, "msg", 3, "guest", "main.c", 42), len;
  const uint8_t *p = payload_of(total, &len);
  hl_fb_table t;
  uint8_t level, dl = 2;
  uint32_t line, d0 = 0, n;
  const char *s;
  bool present;
  CHECK(hl_fb_root(p, len, &t) && hl_fb_scalar(&t, 0, 1, &dl, &level) && level == HL_LOG_WARN, "level");
  CHECK(hl_fb_string(&t, 1, &s, &n, &present) && n == 3 && !memcmp(s, "msg", 3), "message");
  CHECK(hl_fb_string(&t, 2, &s, &n, &present) && n == 5 && !memcmp(s, "guest", 5), "target");
  CHECK(hl_fb_string(&t, 3, &s, &n, &present) && n == 6 && !memcmp(s, "main.c", 6), "source_file");
  CHECK(hl_fb_scalar(&t, 4, 4, &d0, &line) && line == 42, "line");
  CHECK(total % 4 == 0, "records are padded to 4 bytes");
}

/* Decodes everything in a (possibly hostile) FunctionCall. */
static void decode_all(const uint8_t *p, size_t len) {
  hl_wire_call call;
  if (hl_wire_decode_call(p, len, &call)) return;
  for (uint32_t i = 0; i < call.args.count && i < 64; i++) {
    hl_value v;
    if (!hl_wire_decode_arg(&call, i, &v) && v.type == HL_TYPE_STRING) {
      volatile char sink = 0;
      for (size_t j = 0; j < v.as.string.len; j++) sink ^= v.as.string.data[j]; /* touch every byte */
      (void)sink;
    }
  }
  hl_result r;
  uint32_t mlen;
  hl_wire_decode_result(p, len, &r, &mlen);
}

TEST(reader_survives_truncated_and_mutated_input) {
  init_samples();
  size_t total = hl_wire_encode_call(region, sizeof region, "Echo", 4, sample_args, 9, HL_TYPE_STRING);
  const uint8_t *valid = region + 4;
  size_t len = total - 4;
  /* Exactly-sized heap copies, so AddressSanitizer sees any overread. */
  for (size_t cut = 0; cut < len; cut++) {
    uint8_t *copy = malloc(cut ? cut : 1);
    memcpy(copy, valid, cut);
    decode_all(copy, cut);
    free(copy);
  }
  uint64_t state = 1;
  for (int round = 0; round < 20000; round++) {
    uint8_t *copy = malloc(len);
    memcpy(copy, valid, len);
    for (int k = 0; k < 1 + round % 4; k++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      copy[(state >> 33) % len] = (uint8_t)(state >> 20);
    }
    decode_all(copy, len);
    free(copy);
  }
  CHECK(hl_wire_decode_call(valid, 3, &(hl_wire_call){0}) != NULL, "3 bytes must fail");
  uint8_t frame[8] = {200, 0, 0, 0};
  const uint8_t *p;
  size_t n;
  CHECK(hl_wire_frame(frame, sizeof frame, &p, &n) != NULL, "oversized frame length must fail");
}
