// The symbolic name of an errno ("ENOENT"), for the `code` of the errors the
// addon throws. A table of its own rather than glibc's strerrorname_np (2.32+):
// the same names under every C library and no newer glibc symbol.
#ifndef HYPERLIGHT_NATIVE_ERRNO_NAME_H_
#define HYPERLIGHT_NATIVE_ERRNO_NAME_H_

namespace hyperlight_native {

// The name of Linux errno `err`, or "E<number>" when it has none (the
// returned buffer is then per thread and valid until the next such call).
const char* ErrnoName(int err);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_ERRNO_NAME_H_
