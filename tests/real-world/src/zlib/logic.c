/*
 * zlib operations (logic.h), the same code in the guest and the native CLI,
 * so any difference in their outputs comes from the library and the C
 * library underneath it.
 */
#include "logic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/** Chunk sizes of the streaming paths: odd, so chunk edges fall mid-symbol. */
#define STREAM_IN_CHUNK 1021u
#define STREAM_OUT_CHUNK 997u

int zl_compress(const uint8_t *in, size_t len, int level, rw_buffer *out) {
  uLongf size = compressBound((uLong)len);
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return Z_MEM_ERROR;
  int rc = compress2(buf, &size, in, (uLong)len, level);
  if (rc == Z_OK) rw_put(out, buf, size);
  free(buf);
  return rc;
}

int zl_uncompress(const uint8_t *in, size_t len, size_t out_size, rw_buffer *out) {
  uLongf size = (uLongf)out_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return Z_MEM_ERROR;
  int rc = uncompress(buf, &size, in, (uLong)len);
  if (rc == Z_OK) rw_put(out, buf, size);
  free(buf);
  return rc;
}

uint32_t zl_crc32(const uint8_t *in, size_t len) { return (uint32_t)crc32_z(crc32(0, Z_NULL, 0), in, len); }

uint32_t zl_adler32(const uint8_t *in, size_t len) { return (uint32_t)adler32_z(adler32(0, Z_NULL, 0), in, len); }

/** windowBits for a stream format. */
static int window_bits(int format) {
  switch (format) {
  case ZLIB_FORMAT_GZIP: return 15 + 16;
  case ZLIB_FORMAT_RAW: return -15;
  case ZLIB_FORMAT_AUTO: return 15 + 32;
  default: return 15;
  }
}

/** Moves what the stream wrote into `chunk` to `out` and rewinds the output window. */
static int drain(z_stream *s, uint8_t *chunk, size_t chunk_size, rw_buffer *out) {
  size_t produced = chunk_size - s->avail_out;
  s->next_out = chunk;
  s->avail_out = (uInt)chunk_size;
  return rw_put(out, chunk, produced);
}

/** deflate() with the options packed in `arg`. */
static int zl_deflate(const uint8_t *in, size_t len, uint32_t arg, rw_buffer *out) {
  int format = ZLIB_DEFLATE_FORMAT(arg);
  if (format == ZLIB_FORMAT_AUTO) return Z_STREAM_ERROR;
  z_stream s;
  memset(&s, 0, sizeof s);
  int rc = deflateInit2(&s, ZLIB_DEFLATE_LEVEL(arg), Z_DEFLATED, window_bits(format), 8, ZLIB_DEFLATE_STRATEGY(arg));
  if (rc != Z_OK) return rc;
  int chunked = (arg & ZLIB_DEFLATE_CHUNKED) != 0;
  size_t chunk_size = chunked ? STREAM_OUT_CHUNK : deflateBound(&s, (uLong)len);
  uint8_t *chunk = malloc(chunk_size);
  if (!chunk) {
    deflateEnd(&s);
    return Z_MEM_ERROR;
  }
  s.next_out = chunk;
  s.avail_out = (uInt)chunk_size;
  size_t fed = 0;
  do {
    size_t piece = chunked && len - fed > STREAM_IN_CHUNK ? STREAM_IN_CHUNK : len - fed;
    s.next_in = (Bytef *)(uintptr_t)(in + fed);
    s.avail_in = (uInt)piece;
    fed += piece;
    int flush = fed == len ? Z_FINISH : Z_NO_FLUSH;
    do {
      rc = deflate(&s, flush);
      if (rc != Z_STREAM_ERROR && drain(&s, chunk, chunk_size, out)) rc = Z_MEM_ERROR;
    } while (rc == Z_OK && (s.avail_in > 0 || flush == Z_FINISH));
  } while (rc == Z_OK && fed < len);
  free(chunk);
  deflateEnd(&s);
  return rc == Z_STREAM_END ? Z_OK : rc;
}

/** inflate() through small output chunks, giving up beyond the limit packed in `arg`. */
static int zl_inflate(const uint8_t *in, size_t len, uint32_t arg, rw_buffer *out) {
  size_t limit = ZLIB_INFLATE_LIMIT(arg);
  z_stream s;
  memset(&s, 0, sizeof s);
  int rc = inflateInit2(&s, window_bits(ZLIB_INFLATE_FORMAT(arg)));
  if (rc != Z_OK) return rc;
  uint8_t chunk[STREAM_OUT_CHUNK];
  s.next_in = (Bytef *)(uintptr_t)in;
  s.avail_in = (uInt)len;
  s.next_out = chunk;
  s.avail_out = sizeof chunk;
  do {
    rc = inflate(&s, Z_NO_FLUSH); /* Z_BUF_ERROR once truncated input leaves it stuck */
    if (rc == Z_OK || rc == Z_STREAM_END) {
      if (out->len + (sizeof chunk - s.avail_out) > limit) rc = Z_BUF_ERROR;
      else if (drain(&s, chunk, sizeof chunk, out)) rc = Z_MEM_ERROR;
    }
  } while (rc == Z_OK);
  inflateEnd(&s);
  return rc == Z_STREAM_END ? Z_OK : rc;
}

/** crc32 and adler32 of the whole, then of two halves joined with the *_combine functions. */
static void checksums(const uint8_t *in, size_t len, rw_buffer *out) {
  size_t half = len / 2;
  uLong crc_a = crc32(0, in, (uInt)half), crc_b = crc32(0, in + half, (uInt)(len - half));
  uLong adler_a = adler32(1, in, (uInt)half), adler_b = adler32(1, in + half, (uInt)(len - half));
  rw_put_u32(out, zl_crc32(in, len));
  rw_put_u32(out, zl_adler32(in, len));
  rw_put_u32(out, (uint32_t)crc32_combine(crc_a, crc_b, (z_off_t)(len - half)));
  rw_put_u32(out, (uint32_t)adler32_combine(adler_a, adler_b, (z_off_t)(len - half)));
}

void zl_gzopen(const char *path, const char *mode, rw_buffer *out) {
  errno = 0;
  gzFile file = gzopen(path, mode);
  int error = errno;
  if (file) {
    rw_printf(out, "gzopen(%s, %s) opened; gzclose=%d", path, mode, gzclose(file));
    return;
  }
  rw_printf(out, "gzopen(%s, %s) = NULL errno=%d (%s)", path, mode, error, strerror(error));
}

/** ZLIB_OP_GZOPEN: splits "path\nmode". */
static uint32_t gzopen_op(const uint8_t *in, size_t len, rw_buffer *out) {
  char *text = malloc(len + 1);
  if (!text) return (uint32_t)Z_MEM_ERROR;
  memcpy(text, in, len);
  text[len] = '\0';
  char *mode = strchr(text, '\n');
  if (!mode) {
    free(text);
    return ZLIB_STATUS_BAD_REQUEST;
  }
  *mode++ = '\0';
  zl_gzopen(text, mode, out);
  free(text);
  return 0;
}

uint32_t real_world_op(uint8_t op, uint32_t arg, const uint8_t *in, size_t len, rw_buffer *out) {
  switch (op) {
  case ZLIB_OP_COMPRESS: return (uint32_t)zl_compress(in, len, (int)arg, out);
  case ZLIB_OP_DEFLATE: return (uint32_t)zl_deflate(in, len, arg, out);
  case ZLIB_OP_UNCOMPRESS: return (uint32_t)zl_uncompress(in, len, arg, out);
  case ZLIB_OP_INFLATE: return (uint32_t)zl_inflate(in, len, arg, out);
  case ZLIB_OP_CHECKSUMS: checksums(in, len, out); return 0;
  case ZLIB_OP_GZOPEN: return gzopen_op(in, len, out);
  case ZLIB_OP_INFO: rw_printf(out, "%s %lx", zlibVersion(), zlibCompileFlags()); return 0;
  default: return ZLIB_STATUS_BAD_REQUEST;
  }
}
