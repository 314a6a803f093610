/*
 * What the glue needs from the guest runtime (crate hyperlight-guest, feature
 * `libc`). Glue files are built inside musl's tree (src/hyperlight/) with
 * musl's own flags and internal headers.
 */
#ifndef HL_RUNTIME_H
#define HL_RUNTIME_H

#include <features.h>
#include <stdint.h>

/* ABORT_CODE_PANIC of schema/abi.json (a test checks that they agree). */
#define HL_ABORT_CODE_PANIC 0x80000001u

/* Ends the current guest call as an abort with this code and message. */
_Noreturn void __hl_abort(uint32_t code, const char *message);

/* The runtime's system-call point (also declared in arch/x86_64/syscall_arch.h). */
long __hl_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

#endif
