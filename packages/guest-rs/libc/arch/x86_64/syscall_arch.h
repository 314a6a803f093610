/*
 * hyperlight-ts replacement for musl's arch/x86_64/syscall_arch.h.
 *
 * A guest runs in ring 3 with no kernel behind it: the `syscall` instruction
 * would fault (#UD). Every system call musl makes is instead a plain call to
 * the guest runtime's one system-call point, which returns the result or
 * -errno exactly as the kernel would (musl's __syscall_ret then sets errno).
 * No vDSO: clock_gettime goes through the same function.
 */
#define __SYSCALL_LL_E(x) (x)
#define __SYSCALL_LL_O(x) (x)

/* Defined by the Rust runtime (crate hyperlight-guest, feature `libc`). */
long __hl_syscall(long n, long a1, long a2, long a3, long a4, long a5, long a6);

static __inline long __syscall0(long n)
{
	return __hl_syscall(n, 0, 0, 0, 0, 0, 0);
}

static __inline long __syscall1(long n, long a1)
{
	return __hl_syscall(n, a1, 0, 0, 0, 0, 0);
}

static __inline long __syscall2(long n, long a1, long a2)
{
	return __hl_syscall(n, a1, a2, 0, 0, 0, 0);
}

static __inline long __syscall3(long n, long a1, long a2, long a3)
{
	return __hl_syscall(n, a1, a2, a3, 0, 0, 0);
}

static __inline long __syscall4(long n, long a1, long a2, long a3, long a4)
{
	return __hl_syscall(n, a1, a2, a3, a4, 0, 0);
}

static __inline long __syscall5(long n, long a1, long a2, long a3, long a4, long a5)
{
	return __hl_syscall(n, a1, a2, a3, a4, a5, 0);
}

static __inline long __syscall6(long n, long a1, long a2, long a3, long a4, long a5, long a6)
{
	return __hl_syscall(n, a1, a2, a3, a4, a5, a6);
}

#define IPC_64 0
