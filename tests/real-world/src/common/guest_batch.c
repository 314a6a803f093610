/* `Batch(bytes) -> bytes` and result helpers shared by the guests. */
#include "guest_batch.h"

hl_result rw_bytes_result(rw_buffer *b) {
  if (b->failed) {
    rw_free(b);
    return hl_err(HL_ERROR_GUEST_FUNCTION_FAILED, "out of memory");
  }
  hl_value value = hl_bytes_copy(b->data, b->len);
  rw_free(b);
  return hl_ok(value);
}

hl_result rw_string_result(rw_buffer *b) {
  if (rw_put(b, "", 1)) {
    rw_free(b);
    return hl_err(HL_ERROR_GUEST_FUNCTION_FAILED, "out of memory");
  }
  hl_value value = hl_string_copy((const char *)b->data);
  rw_free(b);
  return hl_ok(value);
}

static hl_result batch(const hl_call *call) {
  size_t len;
  const uint8_t *request = hl_arg_bytes(call, 0, &len);
  rw_buffer response = {0};
  rw_batch_error error = rw_batch_run(request, len, real_world_op, &response);
  if (error != RW_BATCH_OK) {
    rw_free(&response);
    return hl_err(HL_ERROR_GUEST_FUNCTION_FAILED, "%s", rw_batch_error_text(error));
  }
  return rw_bytes_result(&response);
}

void rw_register_batch(void) { hl_register_function("Batch", batch, HL_TYPE_BYTES, 1, HL_TYPE_BYTES); }
