#include "run_control.h"

#include <mutex>
#include <unordered_map>
#include <utility>

#include "event_channel.h"
#include "kick_signal.h"
#include "throw.h"
#include "watchdog.h"

namespace hyperlight_native {
namespace {

// Every live control by id. Leaked on purpose: nothing runs at exit(), so a
// worker or the vCPU thread still using it then never sees it destroyed.
struct Registry {
  std::mutex mutex;
  std::unordered_map<uint64_t, std::weak_ptr<RunControl>> controls;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();
  return *registry;
}

// Ids start at 1 and are never reused (2^64 of them). Constant-initialised
// and trivially destructible, so safe from every thread at any time.
std::atomic<uint64_t> next_id{1};

void Unregister(uint64_t id) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  registry.controls.erase(id);
}

}  // namespace

std::shared_ptr<RunControl> RunControl::Create(bool worker_thread, int* error) {
  std::shared_ptr<RunControl> control(new RunControl(next_id.fetch_add(1), worker_thread));
  {
    Registry& registry = GetRegistry();
    std::lock_guard<std::mutex> lock(registry.mutex);
    registry.controls.emplace(control->id_, control);
  }
  *error = worker_thread ? Watchdog::Get().WatchWorker(control) : 0;
  return *error == 0 ? control : nullptr;
}

RunControl::~RunControl() { Unregister(id_); }

bool RunControl::Cancel(uint32_t reason) { return CancelMatching(reason, false, 0); }

bool RunControl::CancelIfSeq(uint32_t seq, uint32_t reason) { return CancelMatching(reason, true, seq); }

bool RunControl::CancelMatching(uint32_t reason, bool check_seq, uint32_t seq) {
  using namespace call_state;
  uint32_t word = state_.load();
  for (;;) {
    if ((word & kOpen) == 0 || ReasonOf(word) != 0) return false;
    if (check_seq && SeqOf(word) != seq) return false;
    // On failure `word` is reloaded: the call ended, another cancel won, or a
    // new call began (which this cancel may then hit: it came after begin).
    if (state_.compare_exchange_weak(word, word | (reason << kReasonShift))) break;
  }
  Interrupt();
  if (notify_on_cancel_.load()) NotifyCancel(SeqOf(word), reason);
  return true;
}

void RunControl::Stop() {
  stopping_.store(true);
  Interrupt();
}

void RunControl::KickRunner() {
  pid_t tid = tid_.load();
  if (tid != 0) Kick(tid);
}

void RunControl::Interrupt() {
  bool has_immediate_exit;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    // SAFETY: immediate_exit_ stays valid until Detach() (under this mutex)
    // clears it. The store is atomic because the runner clears the byte concurrently.
    has_immediate_exit = immediate_exit_ != nullptr;
    if (has_immediate_exit) __atomic_store_n(immediate_exit_, 1, __ATOMIC_SEQ_CST);
  }
  pid_t tid = tid_.load();
  if (tid == 0) return;
  uint32_t runs = runs_.load(std::memory_order_relaxed);
  Kick(tid);
  // Best effort when the watchdog thread cannot start: the first kick is sent.
  if (!has_immediate_exit) Watchdog::Get().Rekick(shared_from_this(), runs);
}

void RunControl::NotifyCancel(uint32_t seq, uint32_t reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (channel_ == nullptr) return;
  VcpuEvent event;
  event.kind = VcpuEvent::Kind::kCancelled;
  event.seq = seq;
  event.reason = reason;
  channel_->Post(event);
}

void RunControl::EnterRun(pid_t tid) {
  // Only the running thread writes runs_: no locked increment needed.
  runs_.store(runs_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Sequentially consistent: the runner's half of the Dekker pair (top of run_control.h).
  tid_.store(tid);
}

void RunControl::LeaveRun() {
  // A canceller that still reads the old tid only sends a harmless kick.
  tid_.store(0, std::memory_order_release);
  // One-shot: whatever set it has been answered by this return. Cleared only
  // when set, so the common path costs a load; the clear itself is
  // sequentially consistent so that, if it wipes a newer cancel's store, the
  // owner's next look at the word (before the next run) sees that cancel's
  // reason, which the canceller wrote before its store.
  // SAFETY: immediate_exit_ is valid from Attach() to Detach(), which never
  // run while a run is in progress.
  if (immediate_exit_ == nullptr) return;
  if (__atomic_load_n(immediate_exit_, __ATOMIC_RELAXED) != 0) {
    __atomic_store_n(immediate_exit_, 0, __ATOMIC_SEQ_CST);
  }
}

void RunControl::Attach(uint8_t* immediate_exit) {
  std::lock_guard<std::mutex> lock(mutex_);
  immediate_exit_ = immediate_exit;
}

void RunControl::SetChannel(std::shared_ptr<EventChannel> channel) {
  std::lock_guard<std::mutex> lock(mutex_);
  channel_ = std::move(channel);
}

void RunControl::Detach() {
  Unregister(id_);
  std::shared_ptr<EventChannel> channel;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    immediate_exit_ = nullptr;
    channel = std::move(channel_);
  }
}

std::shared_ptr<RunControl> FindRunControl(uint64_t id) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mutex);
  auto found = registry.controls.find(id);
  return found == registry.controls.end() ? nullptr : found->second.lock();
}

Napi::Value CancelCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    ThrowTypeError(env, "cancelCall(id, reasonCode): both must be numbers");
  }
  double id = info[0].As<Napi::Number>().DoubleValue();
  uint32_t reason = info[1].As<Napi::Number>().Uint32Value();
  if (reason == 0 || reason > call_state::kMaxReason || info[1].As<Napi::Number>().DoubleValue() != reason) {
    ThrowRangeError(env, "cancelCall(id, reasonCode): reasonCode must be 1 to " + std::to_string(call_state::kMaxReason));
  }
  // Ids are positive integers below 2^53; anything else names no control.
  if (!(id >= 1 && id <= 9007199254740991.0) || id != static_cast<double>(static_cast<uint64_t>(id))) {
    return Napi::Boolean::New(env, false);
  }
  std::shared_ptr<RunControl> control = FindRunControl(static_cast<uint64_t>(id));
  return Napi::Boolean::New(env, control != nullptr && control->Cancel(reason));
}

}  // namespace hyperlight_native
