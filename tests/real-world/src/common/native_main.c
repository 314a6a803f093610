/*
 * Native front end: the same logic as the guest, as a host CLI. Reads one
 * batch request (batch.h) from stdin and writes the response to stdout.
 * Exit status: 0 done, 2 malformed request, 3 out of memory, 4 I/O error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "batch.h"

int main(void) {
  rw_buffer request = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
    if (rw_put(&request, chunk, n)) return 3;
  }
  if (ferror(stdin)) return 4;

  rw_buffer response = {0};
  rw_batch_error error = rw_batch_run(request.data, request.len, real_world_op, &response);
  if (error != RW_BATCH_OK) {
    fprintf(stderr, "%s\n", rw_batch_error_text(error));
    return error == RW_BATCH_MALFORMED ? 2 : 3;
  }
  if (response.len && fwrite(response.data, 1, response.len, stdout) != response.len) return 4;
  if (fflush(stdout)) return 4;
  rw_free(&request);
  rw_free(&response);
  return 0;
}
