/*
 * The cJSON guest: the logic of logic.c as guest functions.
 *   Batch(bytes) -> bytes          records of logic.h's ops (see common/batch.h)
 *   ParseAndPrint(string) -> string  cjson_parse_print's text
 *   PatchSuite(string) -> string     cjson_patch_suite's text
 */
#include "../common/guest_batch.h"
#include "logic.h"

/** Runs a text operation on the string argument; the text is the result even for invalid JSON. */
static hl_result text_op(const hl_call *call, uint32_t (*op)(const uint8_t *, size_t, rw_buffer *)) {
  size_t len;
  const char *json = hl_arg_string(call, 0, &len);
  rw_buffer out = {0};
  op((const uint8_t *)json, len, &out);
  return rw_string_result(&out);
}

static hl_result parse_and_print(const hl_call *call) { return text_op(call, cjson_parse_print); }

static hl_result patch_suite(const hl_call *call) { return text_op(call, cjson_patch_suite); }

void hyperlight_main(void) {
  rw_register_batch();
  hl_register_function("ParseAndPrint", parse_and_print, HL_TYPE_STRING, 1, HL_TYPE_STRING);
  hl_register_function("PatchSuite", patch_suite, HL_TYPE_STRING, 1, HL_TYPE_STRING);
}
