// A test addon over the shared C++ alone (no hypervisor): it plays one
// blocking run under a RunControl, with ppoll standing in for the run ioctl
// (a kick makes it return EINTR, as it makes a run ioctl return), and the
// watchdog cancelling the call from its own thread. It also proves the
// sources and include directory of @hyperlight-ts/native-linux/gyp build an addon.
#include <errno.h>
#include <napi.h>
#include <poll.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "addon_data.h"
#include "kick_signal.h"
#include "run_control.h"
#include "shared_exports.h"
#include "watchdog.h"

namespace {

using namespace hyperlight_native;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// blockedRun({ withImmediateExit, timeoutMs, spinMs, blockMs }): opens a call,
// arms the watchdog to cancel it after timeoutMs, enters the "run", checks
// interrupt_pending() (unless withImmediateExit), then spins spinMs (so the
// cancel's first kick lands before the blocking call and is lost) and blocks
// in ppoll for up to blockMs. Returns what happened.
Napi::Value BlockedRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object options = info[0].As<Napi::Object>();
  const bool with_immediate_exit = options.Get("withImmediateExit").ToBoolean();
  const double timeout_ms = options.Get("timeoutMs").ToNumber().DoubleValue();
  const double spin_ms = options.Get("spinMs").ToNumber().DoubleValue();
  const double block_ms = options.Get("blockMs").ToNumber().DoubleValue();

  if (KickSignal() < 0) throw Napi::Error::New(env, "no kick signal");
  const pid_t tid = PrepareThreadForKicks();
  int error = 0;
  std::shared_ptr<RunControl> control = RunControl::Create(false, &error);
  if (control == nullptr) throw Napi::Error::New(env, "RunControl::Create failed");
  uint8_t immediate_exit = 0;
  if (with_immediate_exit) control->Attach(&immediate_exit);

  auto* word = static_cast<std::atomic<uint32_t>*>(control->state_bytes());
  word->store((1u << call_state::kSeqShift) | call_state::kOpen);
  Watchdog::Get().Arm(control, 1, timeout_ms);

  const Clock::time_point start = Clock::now();
  control->EnterRun(tid);
  bool skipped = !with_immediate_exit && control->interrupt_pending();
  int result = 0;
  int run_error = 0;
  uint8_t byte_during = 0;
  if (!skipped) {
    while (MsSince(start) < spin_ms) {
    }
    byte_during = __atomic_load_n(&immediate_exit, __ATOMIC_SEQ_CST);
    timespec wait = {static_cast<time_t>(block_ms / 1000), static_cast<long>(static_cast<int64_t>(block_ms) % 1000 * 1000000)};
    result = ppoll(nullptr, 0, &wait, nullptr);
    run_error = result < 0 ? errno : 0;
  }
  control->LeaveRun();
  const double elapsed_ms = MsSince(start);

  Napi::Object out = Napi::Object::New(env);
  out.Set("skipped", skipped);
  out.Set("interrupted", run_error == EINTR);
  out.Set("elapsedMs", elapsed_ms);
  out.Set("reason", call_state::ReasonOf(word->load()));
  out.Set("immediateExitDuring", byte_during);
  out.Set("immediateExitAfter", __atomic_load_n(&immediate_exit, __ATOMIC_SEQ_CST));
  control->Detach();
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InstallAddonData<AddonData>(env);
  ExportShared(env, exports);
  exports.Set("blockedRun", Napi::Function::New<BlockedRun>(env, "blockedRun"));
  return exports;
}

}  // namespace

NODE_API_MODULE(run_control_probe, Init)
