/*
 * hyperlight-ts replacement for musl's arch/x86_64/pthread_arch.h.
 *
 * musl finds its thread block (errno, locale, stack canary copy) at %fs:0.
 * A guest has no fs base (ring 3 cannot set one and the host does not), and
 * it has exactly one thread, so the thread pointer is the address of one
 * static block, defined and filled by the glue (src/hyperlight/thread.c).
 */
/* musl's `struct pthread`: pthread_impl.h renames it with a macro right after including this file. */
struct __pthread;
extern __attribute__((__visibility__("hidden"))) struct __pthread __hl_thread;

static inline uintptr_t __get_tp()
{
	return (uintptr_t)&__hl_thread;
}

#define MC_PC gregs[REG_RIP]
