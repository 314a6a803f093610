/*
 * The system call at a cancellation point, replacing musl's
 * src/thread/x86_64/syscall_cp.s (which has no generic C version) without
 * the `syscall` instruction.
 */
#include "hl_runtime.h"
#include "pthread_impl.h"

hidden long __cancel(void);

hidden long __syscall_cp_asm(volatile int *cancel, syscall_arg_t nr, syscall_arg_t u, syscall_arg_t v, syscall_arg_t w,
                             syscall_arg_t x, syscall_arg_t y, syscall_arg_t z)
{
	if (*cancel) return __cancel();
	return __hl_syscall(nr, u, v, w, x, y, z);
}

/*
 * The assembly version's labels around the call. Only musl's cancellation
 * signal handler compares a program counter with them, and no signal ever
 * reaches a guest.
 */
hidden const char __cp_begin[1], __cp_end[1], __cp_cancel[1];
