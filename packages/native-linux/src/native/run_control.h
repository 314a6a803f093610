// RunControl: how a guest call on one vCPU is cancelled from any thread.
//
// The call-state word, shared zero-copy with TypeScript (the vCPU's
// callState), where core's CallStateGuard.begin/end/cancelReason are plain
// Atomics operations (layout: CALL_STATE in core's src/backend/call-state.ts):
//
//   bit 0      OPEN: a guest call is open
//   bits 1-3   cancel reason: 0 none, 1 killed, 2 timeout, 3 aborted, 4 disposed
//   bits 4-31  call sequence number (wraps)
//
//   begin:   word = seq' << 4 | OPEN              (owner thread)
//   cancel:  CAS word |= reason << 1, only while OPEN and no reason yet (any thread)
//   end:     old = exchange(word, seq << 4)       (owner thread; old says why)
//
// A cancel then has to stop a vCPU that may be inside the hypervisor's run
// ioctl, or about to enter it. Runner and canceller each store, then load what
// the other stored (Dekker): every access below is sequentially consistent.
//
// With an immediate-exit byte (KVM: kvm_run.immediate_exit, see Attach):
//
//   runner:     tid = gettid()         canceller:  CAS reason into the word
//               KVM_RUN (the kernel                immediate_exit = 1
//                 reads immediate_exit)            t = tid; if t: tgkill(t, kick signal)
//               tid = 0
//               immediate_exit = 0
//
// Either KVM_RUN reads immediate_exit = 1 and returns EINTR at once, or the
// canceller reads the runner's tid and the signal makes KVM leave the guest
// (or return EINTR before entering it: KVM checks for pending signals on the
// way in).
//
// Without one (MSHV: the signal is the only way in), the runner loads the word
// itself after publishing its tid, and the canceller keeps kicking:
//
//   runner:     tid = gettid()         canceller:  CAS reason into the word
//               if interrupt_pending():            t = tid; if t: tgkill(t, kick signal)
//                 skip the ioctl                     and the watchdog re-kicks every
//               run ioctl                            kRekickInterval while that same
//               tid = 0                              run goes on
//
// Either the runner sees the reason before the ioctl, or the canceller sees the
// tid. A kick that lands between the runner's check and its ioctl is lost (the
// handler runs, the ioctl then blocks), so one kick is not enough: the re-kicks
// reach the thread once it is inside the ioctl.
//
// Either way the reason in the word is what lasts: a kick or immediate_exit
// that lands after the ioctl returned (or on the next call) only causes a
// spurious EINTR, which the caller retries when the word holds no reason, and
// the caller looks at the word before every entry, so a cancel between runs is
// seen there.
//
// Lifetime: shared by the vCPU object, the ArrayBuffer over the word, the
// async vCPU thread, and (weakly) the process-wide registry and the watchdog.
// The immediate-exit byte and the event channel are dropped by Detach() when
// the vCPU is released; a canceller on another thread uses them under mutex_,
// so the byte cannot be unmapped under it.
#ifndef HYPERLIGHT_NATIVE_RUN_CONTROL_H_
#define HYPERLIGHT_NATIVE_RUN_CONTROL_H_

#include <errno.h>
#include <napi.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace hyperlight_native {

class EventChannel;

namespace call_state {
inline constexpr uint32_t kOpen = 1;
inline constexpr uint32_t kReasonShift = 1;
inline constexpr uint32_t kReasonMask = 0x7u << kReasonShift;
inline constexpr uint32_t kSeqShift = 4;
inline constexpr uint32_t kSeqMask = 0x0fffffffu;

// Cancel reason codes (bits 1-3); the names are CallGuard's CancelReason.
inline constexpr uint32_t kKilled = 1;
inline constexpr uint32_t kTimeout = 2;
inline constexpr uint32_t kAborted = 3;
inline constexpr uint32_t kDisposed = 4;
inline constexpr uint32_t kMaxReason = kDisposed;

inline uint32_t SeqOf(uint32_t word) { return word >> kSeqShift; }
inline uint32_t ReasonOf(uint32_t word) { return (word & kReasonMask) >> kReasonShift; }
}  // namespace call_state

class RunControl : public std::enable_shared_from_this<RunControl> {
 public:
  // A new control, registered for CancelCall(). `worker_thread`: the VM lives
  // on a worker thread, so the watchdog interrupts runs that last (see
  // watchdog.h) to let worker.terminate() take effect. Null, with `*error`
  // set, when the watchdog thread cannot be started.
  static std::shared_ptr<RunControl> Create(bool worker_thread, int* error);
  ~RunControl();

  RunControl(const RunControl&) = delete;
  RunControl& operator=(const RunControl&) = delete;

  // Process-unique, never reused; the CancelToken's id.
  uint64_t id() const { return id_; }
  bool worker_thread() const { return worker_thread_; }
  // The call-state word's 4 bytes, for the ArrayBuffer handed to JS.
  void* state_bytes() { return &state_; }
  uint32_t state() const { return state_.load(); }

  // Any thread. Puts `reason` into the word if a call is open without one,
  // then stops the vCPU if it runs. Returns whether this cancel won.
  bool Cancel(uint32_t reason);
  // Cancel(), but only while the open call is call number `seq` (a timeout
  // armed for an earlier call must never hit a later one).
  bool CancelIfSeq(uint32_t seq, uint32_t reason);
  // Any thread: makes the owner's async run loop stop (see VcpuRunner::StartRun)
  // and interrupts the run in progress, without touching the word.
  void Stop();
  bool stopping() const { return stopping_.load(); }
  // Any thread: kicks the vCPU's thread, without a reason, if it is inside
  // the run ioctl: a spurious EINTR for the runner.
  void KickRunner();
  // How many times the vCPU entered the run ioctl (wraps), and whether it is inside now.
  uint32_t runs() const { return runs_.load(std::memory_order_relaxed); }
  bool running() const { return tid_.load() != 0; }

  // The thread about to run the run ioctl (`tid`: its PrepareThreadForKicks())
  // / just back from it. Every EnterRun is followed by one LeaveRun, also when
  // the ioctl is skipped.
  void EnterRun(pid_t tid);
  void LeaveRun();
  // Runner, between EnterRun and the ioctl, for a control without an
  // immediate-exit byte: a cancel reason is in the word or Stop() was called,
  // so the ioctl must be skipped and reported as interrupted (EINTR). See the
  // top of this file.
  bool interrupt_pending() const { return call_state::ReasonOf(state_.load()) != 0 || stopping_.load(); }

  // Runner: one entry into the hypervisor's blocking run ioctl, `run_ioctl()`
  // (< 0 with errno on failure), between EnterRun and LeaveRun. Without an
  // immediate-exit byte a pending cancel or stop skips it, as EINTR (see the
  // top of this file). Returns 0 or the errno.
  template <typename RunIoctl>
  int Run(pid_t tid, RunIoctl&& run_ioctl) {
    EnterRun(tid);
    int error = EINTR;
    // immediate_exit_ without the mutex: Attach and Detach never run during a run.
    if (immediate_exit_ != nullptr || !interrupt_pending()) error = run_ioctl() < 0 ? errno : 0;
    LeaveRun();
    return error;
  }

  // Owner thread, before the first run: the hypervisor's immediate-exit byte
  // (KVM: &kvm_run::immediate_exit), which cancellers set before they kick and
  // LeaveRun() clears; it must stay valid until Detach(). Without a call to
  // Attach (MSHV) a cancel of a running vCPU is re-kicked instead.
  void Attach(uint8_t* immediate_exit);
  void SetChannel(std::shared_ptr<EventChannel> channel);
  // Owner thread: whether a successful cancel posts an event to the channel.
  void SetNotifyOnCancel(bool notify) { notify_on_cancel_.store(notify); }
  // Owner thread: the vCPU is being released (no run is in progress). Cancellers
  // stop touching the immediate-exit byte and the channel, and CancelCall() no
  // longer finds this control.
  void Detach();

  // Timeout bookkeeping of this control, owned by the Watchdog and only
  // touched under its mutex.
  struct TimeoutSlot {
    bool armed = false;
    uint32_t seq = 0;
    std::chrono::steady_clock::time_point deadline;
    bool scheduled = false;  // an entry for this control is in the watchdog's queue
    std::chrono::steady_clock::time_point scheduled_at;
  };
  TimeoutSlot timeout_slot;

 private:
  RunControl(uint64_t id, bool worker_thread) : id_(id), worker_thread_(worker_thread) {}
  bool CancelMatching(uint32_t reason, bool check_seq, uint32_t seq);
  // The immediate-exit byte, then the kick (and re-kicks without the byte):
  // see the top of this file.
  void Interrupt();
  void NotifyCancel(uint32_t seq, uint32_t reason);

  alignas(8) std::atomic<uint32_t> state_{0};
  std::atomic<pid_t> tid_{0};
  std::atomic<uint32_t> runs_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> notify_on_cancel_{false};
  const uint64_t id_;
  const bool worker_thread_;

  // Guards immediate_exit_ and channel_ for cancellers against Detach(). The
  // runner reads immediate_exit_ without it: Attach and Detach never run
  // while a run is in progress.
  std::mutex mutex_;
  uint8_t* immediate_exit_ = nullptr;
  std::shared_ptr<EventChannel> channel_;
};

static_assert(sizeof(std::atomic<uint32_t>) == 4 && std::atomic<uint32_t>::is_always_lock_free,
              "the call-state word is a plain lock-free uint32 that JS Atomics can share");

// The live control with `id`, or null.
std::shared_ptr<RunControl> FindRunControl(uint64_t id);

// cancelCall(id, reasonCode): boolean — Cancel() of the control `id` names,
// from any thread of the process; false when it is gone.
Napi::Value CancelCall(const Napi::CallbackInfo& info);

}  // namespace hyperlight_native

#endif  // HYPERLIGHT_NATIVE_RUN_CONTROL_H_
