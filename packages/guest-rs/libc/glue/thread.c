/*
 * The guest's one thread block and __hl_libc_init, which the runtime calls
 * once, at OP_INIT, before the guest's own init code.
 */
#include <stdio.h>
#include <unistd.h>
#include "libc.h"
#include "pthread_impl.h"
#include "stdio_impl.h"

/*
 * __get_tp() (arch/x86_64/pthread_arch.h) returns this block's address. It is
 * filled statically, as musl's __init_tp would fill it at run time, so errno
 * and the "C" locale already work before __hl_libc_init.
 */
hidden struct pthread __hl_thread = {
	.self = &__hl_thread,
	.prev = &__hl_thread,
	.next = &__hl_thread,
	.tid = 1,
	.detach_state = DT_JOINABLE,
	.robust_list.head = &__hl_thread.robust_list.head,
	.locale = &__libc.global_locale,
};

/* Null unless the program uses stdout (stdout.c defines the strong symbol): init never pulls in stdio. */
static FILE *volatile no_stdout;
weak_alias(no_stdout, __stdout_used);

void __hl_libc_init(void)
{
	/* No auxiliary vector and an empty environment: getauxval and getenv find nothing. */
	static size_t no_auxv[2];
	static char *no_environ[1];
	__libc.auxv = no_auxv;
	__libc.page_size = 4096;
	__environ = no_environ;
	__init_ssp(0);
	/*
	 * Unbuffered stdout: every printf reaches the runtime's print at once, and
	 * the runtime batches and flushes its own buffer before every exit, so
	 * output is never lost at an abort nor reordered against the host's log.
	 */
	FILE *out = __stdout_used;
	if (out) setvbuf(out, 0, _IONBF, 0);
}
