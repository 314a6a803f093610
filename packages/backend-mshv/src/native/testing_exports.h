// `testing`: partitions and VPs over any fd, for tests on machines without
// /dev/mshv (kvm-ioctls' "faulty fd" idea). Every native method of those
// classes then runs for real and fails (or succeeds) as that fd answers:
// /dev/null refuses every MSHV ioctl with ENOTTY and has no mmap (a VP over it
// has no register page); a regular file of a page or more maps as one. Not part
// of the MshvSurface the backend uses.
#ifndef HYPERLIGHT_MSHV_TESTING_EXPORTS_H_
#define HYPERLIGHT_MSHV_TESTING_EXPORTS_H_

#include <napi.h>

namespace hyperlight_mshv {

// { partitionOverFd(fd), vpOverFd(fd, workerThread?) }: each wraps a
// close-on-exec duplicate of `fd`; the caller keeps its own.
Napi::Object TestingExports(Napi::Env env);

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_TESTING_EXPORTS_H_
