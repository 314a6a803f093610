/*
 * The guest's one thread block; __hl_libc_init, which the runtime calls
 * once, at OP_INIT, before the guest's own init code; and __hl_libc_flush,
 * which it calls before every exit that is not a print.
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
	 * Line-buffered stdout, as on a terminal: a printf becomes a print exit at
	 * a newline or when the buffer fills, and the runtime calls
	 * __hl_libc_flush before any other exit, so output is neither lost at an
	 * abort nor reordered against host calls.
	 */
	FILE *out = __stdout_used;
	if (out) setvbuf(out, 0, _IOLBF, 0);
}

void __hl_libc_flush(void)
{
	/* A write that ends the run (an abort inside the print path) must not flush again. */
	static int flushing;
	FILE *out = __stdout_used;
	if (!out || flushing) return;
	flushing = 1;
	fflush(out);
	flushing = 0;
}
