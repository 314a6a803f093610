/*
 * The zlib guest: the logic of logic.c as guest functions.
 *   Batch(bytes) -> bytes                   records of logic.h's ops (see common/batch.h)
 *   Compress(bytes, i32 level) -> bytes     compress2()
 *   Uncompress(bytes, u32 outSize) -> bytes uncompress() into at most outSize bytes
 *   Crc32(bytes) -> u32, Adler32(bytes) -> u32
 *   GzOpen(string path, string mode) -> string  what gzopen() did, with errno (guests have no files)
 * A zlib error fails the call with zlib's code and message.
 */
#include <zlib.h>

#include "../common/guest_batch.h"
#include "logic.h"

/** The call's result: the output, or zlib's error. */
static hl_result zlib_result(int rc, rw_buffer *out) {
  if (rc == Z_OK) return rw_bytes_result(out);
  rw_free(out);
  return hl_err(HL_ERROR_GUEST_FUNCTION_FAILED, "zlib error %d (%s)", rc, zError(rc));
}

static hl_result compress_fn(const hl_call *call) {
  size_t len;
  const uint8_t *in = hl_arg_bytes(call, 0, &len);
  rw_buffer out = {0};
  return zlib_result(zl_compress(in, len, hl_arg_i32(call, 1), &out), &out);
}

static hl_result uncompress_fn(const hl_call *call) {
  size_t len;
  const uint8_t *in = hl_arg_bytes(call, 0, &len);
  rw_buffer out = {0};
  return zlib_result(zl_uncompress(in, len, hl_arg_u32(call, 1), &out), &out);
}

static hl_result crc32_fn(const hl_call *call) {
  size_t len;
  const uint8_t *in = hl_arg_bytes(call, 0, &len);
  return hl_ok(hl_u32(zl_crc32(in, len)));
}

static hl_result adler32_fn(const hl_call *call) {
  size_t len;
  const uint8_t *in = hl_arg_bytes(call, 0, &len);
  return hl_ok(hl_u32(zl_adler32(in, len)));
}

static hl_result gzopen_fn(const hl_call *call) {
  rw_buffer out = {0};
  zl_gzopen(hl_arg_string(call, 0, NULL), hl_arg_string(call, 1, NULL), &out);
  return rw_string_result(&out);
}

void hyperlight_main(void) {
  rw_register_batch();
  hl_register_function("Compress", compress_fn, HL_TYPE_BYTES, 2, HL_TYPE_BYTES, HL_TYPE_I32);
  hl_register_function("Uncompress", uncompress_fn, HL_TYPE_BYTES, 2, HL_TYPE_BYTES, HL_TYPE_U32);
  hl_register_function("Crc32", crc32_fn, HL_TYPE_U32, 1, HL_TYPE_BYTES);
  hl_register_function("Adler32", adler32_fn, HL_TYPE_U32, 1, HL_TYPE_BYTES);
  hl_register_function("GzOpen", gzopen_fn, HL_TYPE_STRING, 2, HL_TYPE_STRING, HL_TYPE_STRING);
}
