// The signal that kicks a vCPU thread out of KVM_RUN. A signal that arrives
// while a thread is inside KVM_RUN makes KVM leave the guest and return EINTR
// (Linux arch/x86/kvm/x86.c, vcpu_run: signal_pending -> KVM_EXIT_INTR); the
// handler itself does nothing.
//
// One signal serves the whole process (every worker's copy of the addon shares
// this code and its statics): the first real-time signal from SIGRTMIN+6 up
// whose disposition is still the default, chosen and installed on first use
// with an empty handler and SA_RESTART, so a kick that lands outside KVM_RUN
// only restarts whatever system call it interrupted.
#ifndef HYPERLIGHT_KVM_KICK_SIGNAL_H_
#define HYPERLIGHT_KVM_KICK_SIGNAL_H_

#include <sys/types.h>

namespace hyperlight_kvm {

// The kick signal's number; chooses and installs it on the first call.
// Returns -1 when every candidate already has a handler.
int KickSignal();

// Unblocks the kick signal on the calling thread (once per thread), so a kick
// can reach the thread while it is inside KVM_RUN, and returns the thread's
// kernel thread id. Callers keep the id rather than call this before every
// KVM_RUN: a thread-local lookup in a shared object is not free.
pid_t PrepareThreadForKicks();

// Sends the kick signal to thread `tid` of this process. A thread that has
// left KVM_RUN in the meantime runs the empty handler and carries on.
void Kick(pid_t tid);

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_KICK_SIGNAL_H_
