#include "vcpu_thread.h"

#include <system_error>
#include <utility>

#include "kick_signal.h"
#include "native_thread.h"

namespace hyperlight_native {

VcpuThread::VcpuThread() {
  // Every signal blocked; Loop() unblocks the kick signal alone.
  if (int error = StartNativeThread(&VcpuThread::LoopEntry, this, &thread_)) {
    throw std::system_error(error, std::generic_category(), "pthread_create");  // the caller reports it
  }
  joinable_ = true;
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
  if (joinable_) {
    pthread_join(thread_, nullptr);
    joinable_ = false;
  }
}

void* VcpuThread::LoopEntry(void* self) {
  static_cast<VcpuThread*>(self)->Loop();
  return nullptr;
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
