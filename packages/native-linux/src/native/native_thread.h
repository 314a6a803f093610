// StartNativeThread: a POSIX thread that starts with every signal blocked, so
// process-directed signals go to threads that handle them; the thread
// unblocks what it needs itself (the vCPU thread: the kick signal).
//
// POSIX threads rather than std::thread: std::thread's start, join and detach
// are compiled into libstdc++, which the glibc build links in statically, and
// their pthread calls there would need glibc 2.34. The addon's own calls are
// bound to old symbol versions instead (native-linux/tools/gnu/).
#ifndef HYPERLIGHT_NATIVE_NATIVE_THREAD_H_
#define HYPERLIGHT_NATIVE_NATIVE_THREAD_H_

#include <pthread.h>

namespace hyperlight_native {

// Starts `entry(arg)` on a new joinable thread with every signal blocked;
// the caller's signal mask is unchanged afterwards. Returns 0 and sets
// `*thread`, or returns pthread_create's error (EAGAIN: out of threads).
int StartNativeThread(void* (*entry)(void*), void* arg, pthread_t* thread);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_NATIVE_THREAD_H_
