// Watchdog: one process-wide thread that cancels guest calls at their
// deadline, interrupts long runs of VMs that live on worker threads, and
// re-kicks cancelled runs of vCPUs that have no immediate-exit byte.
//
// Timeouts: CallGuard.begin(timeoutMs) arms a deadline for that call's
// sequence number. At the deadline the watchdog cancels with 'timeout' only if
// the word still holds that call open without a reason, so a deadline of a call
// that ended never reaches a later one. Each control has at most one armed
// deadline (a new call's replaces the last) and at most one queued wake-up, so
// the queue stays as small as the number of VMs however many calls arm; arming
// wakes the thread only when its deadline comes before the wake-up already
// scheduled.
//
// Workers: worker.terminate() only takes effect when the worker runs
// JavaScript again, and a worker blocked in a synchronous run() may not for a
// long time. For VMs created on a worker thread, every kWorkerKickInterval the
// watchdog kicks (without a reason) a vCPU that has stayed inside the same
// run ioctl since the previous tick; run() sees an EINTR without a reason and
// re-enters from JavaScript, where V8's termination lands.
//
// Re-kicks: a kick that reaches a vCPU thread just before it enters the run
// ioctl is lost, and without an immediate-exit byte nothing else stops the
// ioctl (run_control.h). After such a cancel or stop, every kRekickInterval
// the watchdog kicks the runner again for as long as the same run goes on. At
// most one entry per control, so the list stays as small as the number of VMs.
//
// The thread starts on first use and is never stopped or joined: the object is
// leaked, so exit() neither waits for it nor destroys what it uses.
#ifndef HYPERLIGHT_NATIVE_WATCHDOG_H_
#define HYPERLIGHT_NATIVE_WATCHDOG_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <vector>

#include "monotonic_condition.h"
#include "run_control.h"

namespace hyperlight_native {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kWorkerKickInterval{100};
  static constexpr std::chrono::milliseconds kRekickInterval{1};

  static Watchdog& Get();

  // Cancels call `seq` of `control` with 'timeout' `timeout_ms` from now
  // unless it has ended by then. Replaces the control's earlier deadline.
  // Returns the errno of a failure to start the thread, else 0.
  int Arm(const std::shared_ptr<RunControl>& control, uint32_t seq, double timeout_ms);
  // Interrupts long runs of `control` (see above) until it is destroyed.
  // Returns the errno of a failure to start the thread, else 0.
  int WatchWorker(const std::shared_ptr<RunControl>& control);
  // Kicks the runner of `control` every kRekickInterval while it stays inside
  // run number `runs` (RunControl::runs()). Replaces the control's earlier
  // request. Returns the errno of a failure to start the thread, else 0.
  int Rekick(const std::shared_ptr<RunControl>& control, uint32_t runs);

 private:
  struct Wakeup {
    Clock::time_point at;
    std::weak_ptr<RunControl> control;
    bool operator>(const Wakeup& other) const { return at > other.at; }
  };
  struct WatchedWorker {
    std::weak_ptr<RunControl> control;
    bool was_running = false;
    uint32_t runs_seen = 0;
  };
  struct RekickRequest {
    std::weak_ptr<RunControl> control;
    uint32_t runs = 0;
  };

  Watchdog() = default;
  int StartLocked();  // 0 or an errno
  void ScheduleLocked(const std::shared_ptr<RunControl>& control, Clock::time_point at);
  static void* LoopEntry(void* self);
  void Loop();

  std::mutex mutex_;
  MonotonicCondition wake_;
  bool started_ = false;
  // When the thread will next wake by itself; min() while it is awake.
  Clock::time_point sleeping_until_ = Clock::time_point::min();
  std::priority_queue<Wakeup, std::vector<Wakeup>, std::greater<Wakeup>> wakeups_;
  std::vector<WatchedWorker> workers_;
  Clock::time_point next_worker_tick_;
  std::vector<RekickRequest> rekicks_;
  Clock::time_point next_rekick_tick_;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_WATCHDOG_H_
