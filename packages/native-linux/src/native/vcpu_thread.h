// VcpuThread: the thread a vCPU runs on for runAsync(), so the JS thread's
// event loop keeps going meanwhile. Created on a vCPU's first runAsync() and
// reused for every later one; named "hl-vcpu". It takes no signals but the
// kick signal (kick_signal.h), so process-directed signals never interrupt
// its run ioctl.
//
//   idle --Submit(job)--> running job --job returns--> idle
//   any --StopAndJoin()--> stopped (a running job must be made to return first)
#ifndef HYPERLIGHT_NATIVE_VCPU_THREAD_H_
#define HYPERLIGHT_NATIVE_VCPU_THREAD_H_

#include <pthread.h>

#include <condition_variable>
#include <functional>
#include <mutex>

namespace hyperlight_native {

class VcpuThread {
 public:
  // Starts the thread. Throws std::system_error when it cannot.
  VcpuThread();
  // Stops and joins (see StopAndJoin).
  ~VcpuThread();

  VcpuThread(const VcpuThread&) = delete;
  VcpuThread& operator=(const VcpuThread&) = delete;

  // Runs `job` on the thread. The caller submits one job at a time.
  void Submit(std::function<void()> job);
  // Lets the thread finish its current job, then ends and joins it. The
  // caller makes a job that may block (the run ioctl) return first. Idempotent.
  void StopAndJoin();

 private:
  static void* LoopEntry(void* self);
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> job_;
  bool stop_ = false;
  pthread_t thread_;
  bool joinable_ = false;
};

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_VCPU_THREAD_H_
