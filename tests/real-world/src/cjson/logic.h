/* cJSON operations shared by the cJSON guest and the native CLI. */
#ifndef REAL_WORLD_CJSON_LOGIC_H
#define REAL_WORLD_CJSON_LOGIC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/batch.h"

/** Operation codes of cJSON batch records. */
enum cjson_op {
  CJSON_OP_PARSE_PRINT = 1, /* a document -> its prints, minified form, numbers; or its error offset */
  CJSON_OP_PATCH_SUITE = 2, /* a JSON-patch test file -> one line per test */
  CJSON_OP_VERSION = 3,     /* nothing -> cJSON_Version() */
};

/** Status of a record whose document does not parse. */
#define CJSON_STATUS_PARSE_ERROR 1u
/** Status of a record with an unknown op code. */
#define CJSON_STATUS_UNKNOWN_OP 255u

/**
 * Parses `len` bytes of JSON and appends, as text: the formatted,
 * unformatted and buffered prints, the minified input, whether the
 * unformatted print parses and prints back to the same text, and the bit pattern of
 * every number. An invalid document appends `error at <offset>` instead.
 * @returns 0, or CJSON_STATUS_PARSE_ERROR.
 */
uint32_t cjson_parse_print(const uint8_t *json, size_t len, rw_buffer *out);

/**
 * Runs a JSON-patch test file (an array of `{doc, patch, expected}`) through
 * cJSON_Utils: applies each patch, compares with `expected`, and generates a
 * patch and a merge patch from `doc` to `expected`, one text line per test.
 * @returns 0, or CJSON_STATUS_PARSE_ERROR when the file does not parse.
 */
uint32_t cjson_patch_suite(const uint8_t *json, size_t len, rw_buffer *out);

#endif
