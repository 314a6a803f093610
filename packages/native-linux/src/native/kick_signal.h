// The signal that kicks a vCPU thread out of the hypervisor's run ioctl. A
// signal that arrives while a thread is inside it makes the hypervisor leave
// the guest and return EINTR (KVM: Linux arch/x86/kvm/x86.c, vcpu_run:
// signal_pending -> KVM_EXIT_INTR; MSHV: the run ioctl waits interruptibly or
// checks pending signals before each dispatch); the handler itself does nothing.
//
// One signal serves each addon in the whole process (every worker's copy of
// the addon shares this code and its statics): the first real-time signal from
// SIGRTMIN+6 up whose disposition is still the default, chosen and installed
// on first use with an empty handler and SA_RESTART, so a kick that lands
// outside the run ioctl only restarts whatever system call it interrupted.
#ifndef HYPERLIGHT_NATIVE_KICK_SIGNAL_H_
#define HYPERLIGHT_NATIVE_KICK_SIGNAL_H_

#include <sys/types.h>

namespace hyperlight_native {

// The kick signal's number; chooses and installs it on the first call.
// Returns -1 when every candidate already has a handler.
int KickSignal();

// Unblocks the kick signal on the calling thread (once per thread), so a kick
// can reach the thread while it is inside the run ioctl, and returns the thread's
// kernel thread id. Callers keep the id rather than call this before every
// run: a thread-local lookup in a shared object is not free.
pid_t PrepareThreadForKicks();

// Sends the kick signal to thread `tid` of this process. A thread that has
// left the run ioctl in the meantime runs the empty handler and carries on.
void Kick(pid_t tid);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_KICK_SIGNAL_H_
