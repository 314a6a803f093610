// RAII owner of one file descriptor. Every fd the addon opens lives in one of
// these, so an early return or a thrown exception can never leak it.
#ifndef HYPERLIGHT_NATIVE_UNIQUE_FD_H_
#define HYPERLIGHT_NATIVE_UNIQUE_FD_H_

#include <unistd.h>

namespace hyperlight_native {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }

  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(other.Release());
    return *this;
  }

  int Get() const { return fd_; }
  bool Valid() const { return fd_ >= 0; }

  // Gives up ownership without closing.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Closes the owned fd (if any) and takes `fd`. close() is not retried on
  // EINTR: on Linux the descriptor is released even when close() reports it.
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_UNIQUE_FD_H_
