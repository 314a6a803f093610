/* zlib operations shared by the zlib guest and the native CLI. */
#ifndef REAL_WORLD_ZLIB_LOGIC_H
#define REAL_WORLD_ZLIB_LOGIC_H

#include <stddef.h>
#include <stdint.h>

#include "../common/batch.h"

/** Operation codes of zlib batch records. Statuses are zlib's return codes cast to u32 (Z_OK = 0). */
enum zlib_op {
  ZLIB_OP_COMPRESS = 1,   /* arg: level (-1..9)            -> compress2() output */
  ZLIB_OP_DEFLATE = 2,    /* arg: see ZLIB_DEFLATE_*         -> deflate() stream output */
  ZLIB_OP_UNCOMPRESS = 3, /* arg: output size to allow      -> uncompress() output */
  ZLIB_OP_INFLATE = 4,    /* arg: see ZLIB_INFLATE_*         -> inflate() stream output */
  ZLIB_OP_CHECKSUMS = 5,  /* -> crc32, adler32, and both again from two halves combined (4 x u32le) */
  ZLIB_OP_GZOPEN = 6,     /* "path\nmode" -> what gzopen() did, with errno */
  ZLIB_OP_INFO = 7,       /* -> zlibVersion() and zlibCompileFlags() */
};

/* ZLIB_OP_DEFLATE's arg: level in bits 0-3 (15 = Z_DEFAULT_COMPRESSION), strategy in bits 4-7,
 * format in bits 8-9, and bit 10 to stream through small input and output chunks. */
#define ZLIB_DEFLATE_LEVEL(arg) ((int)((arg) & 0xfu) == 15 ? -1 : (int)((arg) & 0xfu))
#define ZLIB_DEFLATE_STRATEGY(arg) ((int)(((arg) >> 4) & 0xfu))
#define ZLIB_DEFLATE_FORMAT(arg) ((int)(((arg) >> 8) & 0x3u))
#define ZLIB_DEFLATE_CHUNKED 0x400u

/** Stream formats: zlib wrapper, gzip wrapper, raw deflate, and (inflate only) zlib-or-gzip. */
enum zlib_format { ZLIB_FORMAT_ZLIB = 0, ZLIB_FORMAT_GZIP = 1, ZLIB_FORMAT_RAW = 2, ZLIB_FORMAT_AUTO = 3 };

/* ZLIB_OP_INFLATE's arg: the most output bytes allowed in bits 0-29, the format in bits 30-31. */
#define ZLIB_INFLATE_LIMIT(arg) ((arg) & 0x3fffffffu)
#define ZLIB_INFLATE_FORMAT(arg) ((int)((arg) >> 30))

/** Status of a record with an unknown op code or a bad argument. */
#define ZLIB_STATUS_BAD_REQUEST 255u

/** compress2() of `len` bytes at `level`; appends the output. @returns zlib's code. */
int zl_compress(const uint8_t *in, size_t len, int level, rw_buffer *out);

/** uncompress() into at most `out_size` bytes; appends the output. @returns zlib's code. */
int zl_uncompress(const uint8_t *in, size_t len, size_t out_size, rw_buffer *out);

/** @returns crc32() of the bytes. */
uint32_t zl_crc32(const uint8_t *in, size_t len);

/** @returns adler32() of the bytes. */
uint32_t zl_adler32(const uint8_t *in, size_t len);

/** Calls gzopen(path, mode) (closing what it opens) and appends what happened, with errno. */
void zl_gzopen(const char *path, const char *mode, rw_buffer *out);

#endif
