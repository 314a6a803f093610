#include "native_thread.h"

#include <signal.h>

namespace hyperlight_native {

int StartNativeThread(void* (*entry)(void*), void* arg, pthread_t* thread) {
  // A new thread inherits its creator's mask: block everything around the create.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int error = pthread_create(thread, nullptr, entry, arg);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return error;
}

}  // namespace hyperlight_native
