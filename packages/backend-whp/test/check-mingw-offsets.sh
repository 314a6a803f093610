#!/bin/sh
# Compiles an offset probe against mingw-w64's winhvplatformdefs.h and prints
# the WHV_RUN_VP_EXIT_CONTEXT offsets whp-abi.ts uses. Usage:
#   test/check-mingw-offsets.sh [include dir]   (default /usr/share/mingw-w64/include)
set -eu
inc="${1:-/usr/share/mingw-w64/include}"
[ -f "$inc/winhvplatformdefs.h" ] || { echo "no $inc/winhvplatformdefs.h (apt-get download mingw-w64-common; dpkg -x)"; exit 2; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
cat > "$dir/probe.c" <<'C'
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
typedef uint8_t UINT8; typedef uint16_t UINT16; typedef uint32_t UINT32; typedef uint64_t UINT64;
typedef int32_t INT32; typedef int64_t INT64; typedef int16_t INT16; typedef int8_t INT8;
typedef unsigned short USHORT; typedef int WINBOOL; typedef void VOID; typedef void *PVOID; typedef void *HANDLE;
typedef struct { uint32_t a; uint16_t b, c; uint8_t d[8]; } GUID;
typedef int DEVICE_POWER_STATE; typedef uint16_t WCHAR; typedef struct { uint32_t LowPart; int32_t HighPart; } LUID;
#define ANYSIZE_ARRAY 1
#define __C89_NAMELESS
#define C_ASSERT(e) _Static_assert(e, #e)
#define DEFINE_ENUM_FLAG_OPERATORS(x)
#define DECLSPEC_ALIGN(x) __attribute__((aligned(x)))
#include "winhvplatformdefs.h"
#define P(f) printf("%s %zu\n", #f, offsetof(WHV_RUN_VP_EXIT_CONTEXT, f))
int main(void) {
  printf("size %zu\n", sizeof(WHV_RUN_VP_EXIT_CONTEXT));
  P(ExitReason); P(VpContext.Rip); P(VpContext.Rflags); P(IoPortAccess.AccessInfo); P(IoPortAccess.PortNumber);
  P(IoPortAccess.Rax); P(MemoryAccess.AccessInfo); P(MemoryAccess.Gpa); P(MemoryAccess.Gva);
  P(UnsupportedFeature.FeatureCode); P(UnsupportedFeature.FeatureParameter); P(CancelReason);
  return 0;
}
C
cc -std=c11 -idirafter "$inc" -o "$dir/probe" "$dir/probe.c"
"$dir/probe"
