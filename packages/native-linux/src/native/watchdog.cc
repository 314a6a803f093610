#include "watchdog.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "native_thread.h"

namespace hyperlight_native {
namespace {

// Far enough to mean "never" and near enough not to overflow time_point arithmetic.
constexpr double kMaxTimeoutMs = 1e12;  // about 31 years

}  // namespace

Watchdog& Watchdog::Get() {
  static Watchdog* watchdog = new Watchdog();  // leaked: see watchdog.h
  return *watchdog;
}

int Watchdog::Arm(const std::shared_ptr<RunControl>& control, uint32_t seq, double timeout_ms) {
  auto delay = std::chrono::duration<double, std::milli>(std::min(std::max(timeout_ms, 0.0), kMaxTimeoutMs));
  Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(delay);
  std::lock_guard<std::mutex> lock(mutex_);
  if (int error = StartLocked()) return error;
  RunControl::TimeoutSlot& slot = control->timeout_slot;
  slot.armed = true;
  slot.seq = seq;
  slot.deadline = deadline;
  // A wake-up at or before the deadline is queued already: it will find the
  // new deadline and queue another. Otherwise queue one for this deadline.
  if (!slot.scheduled || slot.scheduled_at > deadline) ScheduleLocked(control, deadline);
  return 0;
}

int Watchdog::WatchWorker(const std::shared_ptr<RunControl>& control) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (int error = StartLocked()) return error;
  if (workers_.empty()) {
    next_worker_tick_ = Clock::now() + kWorkerKickInterval;
    if (next_worker_tick_ < sleeping_until_) wake_.NotifyOne();
  }
  workers_.push_back({control, false, 0});
  return 0;
}

int Watchdog::Rekick(const std::shared_ptr<RunControl>& control, uint32_t runs) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (int error = StartLocked()) return error;
  for (RekickRequest& request : rekicks_) {
    // Compared by owner, not lock(): a control is never released under the mutex (see Loop).
    if (!request.control.owner_before(control) && !control.owner_before(request.control)) {
      request.runs = runs;
      return 0;
    }
  }
  if (rekicks_.empty()) {
    next_rekick_tick_ = Clock::now() + kRekickInterval;
    if (next_rekick_tick_ < sleeping_until_) wake_.NotifyOne();
  }
  rekicks_.push_back({control, runs});
  return 0;
}

void Watchdog::ScheduleLocked(const std::shared_ptr<RunControl>& control, Clock::time_point at) {
  RunControl::TimeoutSlot& slot = control->timeout_slot;
  slot.scheduled = true;
  slot.scheduled_at = at;
  wakeups_.push({at, control});
  if (at < sleeping_until_) wake_.NotifyOne();
}

int Watchdog::StartLocked() {
  if (started_) return 0;
  // The thread takes no signals: process-directed ones go to threads that
  // handle them, and the kick signal is only ever sent to vCPU threads.
  pthread_t thread;
  int error = StartNativeThread(&Watchdog::LoopEntry, this, &thread);
  if (error != 0) return error;  // EAGAIN: out of threads; a later call tries again
  pthread_detach(thread);
  started_ = true;
  return 0;
}

void* Watchdog::LoopEntry(void* self) {
  static_cast<Watchdog*>(self)->Loop();
  return nullptr;
}

void Watchdog::Loop() {
  pthread_setname_np(pthread_self(), "hl-watchdog");
  std::unique_lock<std::mutex> lock(mutex_);
  // Controls locked from weak pointers are only released with the mutex
  // unlocked: their destructor takes the registry's lock.
  std::vector<std::shared_ptr<RunControl>> held;
  std::vector<std::pair<std::shared_ptr<RunControl>, uint32_t>> expired;
  std::vector<std::shared_ptr<RunControl>> to_kick;
  for (;;) {
    sleeping_until_ = Clock::time_point::min();
    Clock::time_point now = Clock::now();

    while (!wakeups_.empty() && wakeups_.top().at <= now) {
      Wakeup wakeup = wakeups_.top();
      wakeups_.pop();
      std::shared_ptr<RunControl> control = wakeup.control.lock();
      if (control == nullptr) continue;
      RunControl::TimeoutSlot& slot = control->timeout_slot;
      // An older wake-up, superseded by an earlier one that was queued later.
      bool current = slot.scheduled && slot.scheduled_at == wakeup.at;
      if (current) {
        slot.scheduled = false;
        if (slot.armed && slot.deadline <= now) {
          slot.armed = false;
          expired.emplace_back(control, slot.seq);
        } else if (slot.armed) {
          ScheduleLocked(control, slot.deadline);
        }
      }
      held.push_back(std::move(control));
    }

    if (!workers_.empty() && now >= next_worker_tick_) {
      for (auto it = workers_.begin(); it != workers_.end();) {
        std::shared_ptr<RunControl> control = it->control.lock();
        if (control == nullptr) {
          it = workers_.erase(it);
          continue;
        }
        bool running = control->running();
        uint32_t runs = control->runs();
        // Inside the run ioctl now and at the last tick, and no entry in between: one long run.
        if (running && it->was_running && runs == it->runs_seen) to_kick.push_back(control);
        it->was_running = running;
        it->runs_seen = runs;
        held.push_back(std::move(control));
        ++it;
      }
      next_worker_tick_ = now + kWorkerKickInterval;
    }

    if (!rekicks_.empty() && now >= next_rekick_tick_) {
      for (auto it = rekicks_.begin(); it != rekicks_.end();) {
        std::shared_ptr<RunControl> control = it->control.lock();
        // Done once the run that was cancelled has ended (or the control is gone).
        if (control == nullptr || !control->running() || control->runs() != it->runs) {
          it = rekicks_.erase(it);
        } else {
          to_kick.push_back(control);
          ++it;
        }
        if (control != nullptr) held.push_back(std::move(control));
      }
      next_rekick_tick_ = now + kRekickInterval;
    }

    if (!held.empty()) {
      lock.unlock();
      for (auto& [control, seq] : expired) control->CancelIfSeq(seq, call_state::kTimeout);
      for (auto& control : to_kick) control->KickRunner();
      expired.clear();
      to_kick.clear();
      held.clear();
      lock.lock();
      continue;  // time has passed: look again before sleeping
    }

    Clock::time_point until = Clock::time_point::max();
    if (!wakeups_.empty()) until = wakeups_.top().at;
    if (!workers_.empty()) until = std::min(until, next_worker_tick_);
    if (!rekicks_.empty()) until = std::min(until, next_rekick_tick_);
    sleeping_until_ = until;
    if (until == Clock::time_point::max()) {
      wake_.Wait(lock);
    } else {
      wake_.WaitUntil(lock, until);
    }
  }
}

}  // namespace hyperlight_native
