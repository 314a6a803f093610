/*
 * cJSON operations (logic.h), the same code in the guest and the native CLI,
 * so any difference in their outputs comes from the library and the C
 * library underneath it.
 */
#include "logic.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cJSON_Utils.h>

/** A NUL-terminated, writable copy of `len` bytes (NULL when memory runs out). */
static char *terminated_copy(const uint8_t *data, size_t len) {
  char *copy = malloc(len + 1);
  if (copy) {
    if (len) memcpy(copy, data, len);
    copy[len] = '\0';
  }
  return copy;
}

/** Appends `label <length>\n<text>\n`, or `label null\n` when cJSON returned NULL. */
static void put_section(rw_buffer *out, const char *label, char *text) {
  if (!text) {
    rw_printf(out, "%s null\n", label);
    return;
  }
  rw_printf(out, "%s %zu\n%s\n", label, strlen(text), text);
  cJSON_free(text);
}

/** Appends the IEEE-754 bits of every number under `item`, in document order. */
static void put_numbers(rw_buffer *out, const cJSON *item) {
  for (; item; item = item->next) {
    if (cJSON_IsNumber(item)) {
      uint64_t bits;
      memcpy(&bits, &item->valuedouble, sizeof bits);
      rw_printf(out, " %016llx/%d", (unsigned long long)bits, item->valueint);
    }
    put_numbers(out, item->child);
  }
}

uint32_t cjson_parse_print(const uint8_t *json, size_t len, rw_buffer *out) {
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts((const char *)json, len, &end, 0);
  if (!root) {
    long offset = end ? (long)(end - (const char *)json) : -1L;
    rw_printf(out, "error at %ld\n", offset);
    return CJSON_STATUS_PARSE_ERROR;
  }
  rw_printf(out, "parsed %ld\n", (long)(end - (const char *)json));
  put_section(out, "formatted", cJSON_Print(root));
  char *unformatted = cJSON_PrintUnformatted(root);
  if (unformatted) {
    /* Printing, parsing and printing again must give the same text. (cJSON_Compare would
     * do here too, but it is exponential in the nesting depth of objects.) */
    cJSON *again = cJSON_Parse(unformatted);
    char *reprinted = again ? cJSON_PrintUnformatted(again) : NULL;
    rw_printf(out, "reparse %s\n", reprinted && strcmp(reprinted, unformatted) == 0 ? "identical" : "different");
    cJSON_free(reprinted);
    cJSON_Delete(again);
  }
  put_section(out, "unformatted", unformatted);
  put_section(out, "buffered", cJSON_PrintBuffered(root, 16, 1));

  char *minified = terminated_copy(json, len);
  if (minified) cJSON_Minify(minified);
  rw_printf(out, "minified %zu\n%s\n", minified ? strlen(minified) : 0, minified ? minified : "null");
  free(minified);

  rw_puts(out, "numbers");
  put_numbers(out, root);
  rw_puts(out, "\n");
  cJSON_Delete(root);
  return 0;
}

/** Appends ` <label>=<unformatted item>` and deletes `item`. */
static void put_item(rw_buffer *out, const char *label, cJSON *item) {
  char *text = item ? cJSON_PrintUnformatted(item) : NULL;
  rw_printf(out, " %s=%s", label, text ? text : "null");
  cJSON_free(text);
  cJSON_Delete(item);
}

/** One test of a JSON-patch file: apply, compare, generate patches both ways. */
static void run_patch_test(rw_buffer *out, int index, const cJSON *test) {
  const cJSON *doc = cJSON_GetObjectItemCaseSensitive(test, "doc");
  const cJSON *patch = cJSON_GetObjectItemCaseSensitive(test, "patch");
  const cJSON *expected = cJSON_GetObjectItemCaseSensitive(test, "expected");
  rw_printf(out, "#%d", index);
  if (!doc || !patch) {
    rw_puts(out, " skipped\n");
    return;
  }
  cJSON *work = cJSON_Duplicate(doc, 1);
  rw_printf(out, " apply=%d", cJSONUtils_ApplyPatchesCaseSensitive(work, patch));
  if (expected) rw_printf(out, " equal=%d", cJSON_Compare(work, expected, 1));
  put_item(out, "result", work);
  if (expected) {
    cJSON *from = cJSON_Duplicate(doc, 1);
    cJSON *to = cJSON_Duplicate(expected, 1);
    put_item(out, "generated", cJSONUtils_GeneratePatchesCaseSensitive(from, to));
    put_item(out, "merge", cJSONUtils_GenerateMergePatchCaseSensitive(from, to));
    cJSON_Delete(from);
    cJSON_Delete(to);
  }
  rw_puts(out, "\n");
}

uint32_t cjson_patch_suite(const uint8_t *json, size_t len, rw_buffer *out) {
  const char *end = NULL;
  cJSON *tests = cJSON_ParseWithLengthOpts((const char *)json, len, &end, 0);
  if (!tests) {
    rw_printf(out, "error at %ld\n", end ? (long)(end - (const char *)json) : -1L);
    return CJSON_STATUS_PARSE_ERROR;
  }
  int index = 0;
  const cJSON *test;
  cJSON_ArrayForEach(test, tests) run_patch_test(out, index++, test);
  cJSON_Delete(tests);
  return 0;
}

uint32_t real_world_op(uint8_t op, uint32_t arg, const uint8_t *in, size_t len, rw_buffer *out) {
  (void)arg;
  switch (op) {
  case CJSON_OP_PARSE_PRINT: return cjson_parse_print(in, len, out);
  case CJSON_OP_PATCH_SUITE: return cjson_patch_suite(in, len, out);
  case CJSON_OP_VERSION: rw_puts(out, cJSON_Version()); return 0;
  default: rw_printf(out, "unknown op %u", op); return CJSON_STATUS_UNKNOWN_OP;
  }
}
