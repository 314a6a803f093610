// MonotonicCondition: a condition variable whose timed waits measure
// std::chrono::steady_clock (CLOCK_MONOTONIC), for use with std::mutex.
//
// std::condition_variable::wait_until on steady_clock calls
// pthread_cond_clockwait, which glibc has only since 2.30 (GLIBC_2.34 in the
// library the addon is linked against). A condition variable created with
// pthread_condattr_setclock(CLOCK_MONOTONIC) gives the same deadlines with
// pthread_cond_timedwait, which every glibc and musl has.
#ifndef HYPERLIGHT_NATIVE_MONOTONIC_CONDITION_H_
#define HYPERLIGHT_NATIVE_MONOTONIC_CONDITION_H_

#include <pthread.h>

#include <chrono>
#include <mutex>

namespace hyperlight_native {

class MonotonicCondition {
 public:
  using Clock = std::chrono::steady_clock;

  MonotonicCondition();
  ~MonotonicCondition();

  MonotonicCondition(const MonotonicCondition&) = delete;
  MonotonicCondition& operator=(const MonotonicCondition&) = delete;

  // Unlocks `lock`, sleeps until notified (or spuriously), locks it again.
  void Wait(std::unique_lock<std::mutex>& lock);
  // Like Wait, but also returns once `deadline` has passed.
  void WaitUntil(std::unique_lock<std::mutex>& lock, Clock::time_point deadline);
  // Wakes one waiting thread, if any.
  void NotifyOne();

 private:
  pthread_cond_t cond_;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_MONOTONIC_CONDITION_H_
