// ioctls that set a VM up can fail with EINTR when a signal arrives meanwhile
// (KVM_CREATE_VM waits for the MMU notifier registration, for instance); a
// profiler's SIGPROF or an application's own signals must not fail a sandbox.
#ifndef HYPERLIGHT_KVM_IOCTL_RETRY_H_
#define HYPERLIGHT_KVM_IOCTL_RETRY_H_

#include <errno.h>
#include <sys/ioctl.h>

namespace hyperlight_kvm {

// ioctl(fd, request, arg), repeated while it fails with EINTR. Not for
// KVM_RUN, whose EINTR is how a cancel or a kick is reported.
template <typename Arg>
int IoctlRetryingEintr(int fd, unsigned long request, Arg arg) {
  int result;
  do {
    result = ioctl(fd, request, arg);
  } while (result < 0 && errno == EINTR);
  return result;
}

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_IOCTL_RETRY_H_
