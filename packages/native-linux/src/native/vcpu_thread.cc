#include "vcpu_thread.h"

#include <pthread.h>
#include <signal.h>

#include <utility>

#include "kick_signal.h"

namespace hyperlight_native {

VcpuThread::VcpuThread() {
  // Start with every signal blocked; Loop() unblocks the kick signal alone.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  try {
    thread_ = std::thread(&VcpuThread::Loop, this);
  } catch (...) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    throw;  // std::system_error: the caller reports it
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

VcpuThread::~VcpuThread() { StopAndJoin(); }

void VcpuThread::Submit(std::function<void()> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = std::move(job);
  }
  wake_.notify_one();
}

void VcpuThread::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void VcpuThread::Loop() {
  pthread_setname_np(pthread_self(), "hl-vcpu");
  PrepareThreadForKicks();
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || job_ != nullptr; });
    if (stop_) return;
    std::function<void()> job = std::move(job_);
    job_ = nullptr;
    lock.unlock();
    job();
    lock.lock();
    if (stop_) return;
  }
}

}  // namespace hyperlight_native
