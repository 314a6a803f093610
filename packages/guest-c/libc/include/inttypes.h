/**
 * @file inttypes.h
 * printf format macros for <stdint.h> types (x86-64: int64_t is long).
 */
#ifndef HL_LIBC_INTTYPES_H
#define HL_LIBC_INTTYPES_H

#include <stdint.h>

#define PRId8 "d"    /**< int8_t */
#define PRId16 "d"   /**< int16_t */
#define PRId32 "d"   /**< int32_t */
#define PRId64 "ld"  /**< int64_t */
#define PRIi32 "i"   /**< int32_t */
#define PRIi64 "li"  /**< int64_t */
#define PRIu8 "u"    /**< uint8_t */
#define PRIu16 "u"   /**< uint16_t */
#define PRIu32 "u"   /**< uint32_t */
#define PRIu64 "lu"  /**< uint64_t */
#define PRIx32 "x"   /**< uint32_t, hex */
#define PRIx64 "lx"  /**< uint64_t, hex */
#define PRIX32 "X"   /**< uint32_t, HEX */
#define PRIX64 "lX"  /**< uint64_t, HEX */
#define PRIo32 "o"   /**< uint32_t, octal */
#define PRIo64 "lo"  /**< uint64_t, octal */
#define PRIdPTR "ld" /**< intptr_t */
#define PRIuPTR "lu" /**< uintptr_t */
#define PRIxPTR "lx" /**< uintptr_t, hex */

#endif /* HL_LIBC_INTTYPES_H */
