#include "monotonic_condition.h"

#include <time.h>

#include <cstdlib>

namespace hyperlight_native {

MonotonicCondition::MonotonicCondition() {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  // libstdc++'s steady_clock reads CLOCK_MONOTONIC, so deadlines compare directly.
  int error = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (error == 0) error = pthread_cond_init(&cond_, &attr);
  pthread_condattr_destroy(&attr);
  if (error != 0) std::abort();  // CLOCK_MONOTONIC is always valid; glibc and musl never fail the init
}

MonotonicCondition::~MonotonicCondition() { pthread_cond_destroy(&cond_); }

void MonotonicCondition::Wait(std::unique_lock<std::mutex>& lock) {
  pthread_cond_wait(&cond_, lock.mutex()->native_handle());
}

void MonotonicCondition::WaitUntil(std::unique_lock<std::mutex>& lock, Clock::time_point deadline) {
  const auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
  if (since_epoch <= 0) return;  // before the clock's start: already passed
  struct timespec at;
  at.tv_sec = static_cast<time_t>(since_epoch / 1000000000);
  at.tv_nsec = static_cast<long>(since_epoch % 1000000000);
  pthread_cond_timedwait(&cond_, lock.mutex()->native_handle(), &at);  // ETIMEDOUT or woken: the caller looks again
}

void MonotonicCondition::NotifyOne() { pthread_cond_signal(&cond_); }

}  // namespace hyperlight_native
