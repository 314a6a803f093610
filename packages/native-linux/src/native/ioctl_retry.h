// ioctls that set a VM up can fail with EINTR when a signal arrives meanwhile
// (KVM_CREATE_VM waits for the MMU notifier registration, for instance); a
// profiler's SIGPROF or an application's own signals must not fail a sandbox.
#ifndef HYPERLIGHT_NATIVE_IOCTL_RETRY_H_
#define HYPERLIGHT_NATIVE_IOCTL_RETRY_H_

#include <errno.h>
#include <sys/ioctl.h>

namespace hyperlight_native {

// ioctl(fd, request, arg), repeated while it fails with EINTR. Not for a
// run ioctl (KVM_RUN, MSHV_RUN_VP), whose EINTR is how a cancel or a kick is reported.
template <typename Arg>
int IoctlRetryingEintr(int fd, unsigned long request, Arg arg) {
  int result;
  do {
    result = ioctl(fd, request, arg);
  } while (result < 0 && errno == EINTR);
  return result;
}

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_IOCTL_RETRY_H_
