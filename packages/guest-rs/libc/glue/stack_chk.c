/*
 * Stack protector support, replacing musl's src/env/__stack_chk_fail.c. C
 * guests are compiled with -mstack-protector-guard=global, so every canary
 * check reads __stack_chk_guard (never %fs:0x28).
 */
#include "hl_runtime.h"
#include "pthread_impl.h"

uintptr_t __stack_chk_guard;

/* Seeds the guard; __hl_libc_init passes no entropy, so it mixes the TSC with the load address. */
void __init_ssp(void *entropy)
{
	uintptr_t seed = entropy ? *(uintptr_t *)entropy : (uintptr_t)__builtin_ia32_rdtsc() ^ (uintptr_t)&__stack_chk_guard;
	/* A multiplicative hash spreads the TSC's fast-moving low bits over the word. */
	__stack_chk_guard = seed * 0x9e3779b97f4a7c15u;
	/* A zero second byte stops string functions from reading or writing past the canary, as in musl. */
	((unsigned char *)&__stack_chk_guard)[1] = 0;
	__pthread_self()->canary = __stack_chk_guard;
}

void __stack_chk_fail(void)
{
	__hl_abort(HL_ABORT_CODE_PANIC, "stack smashing detected");
}
