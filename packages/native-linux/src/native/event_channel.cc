#include "event_channel.h"

#include <utility>

#include "throw.h"

namespace hyperlight_native {

std::shared_ptr<EventChannel> EventChannel::Create(Napi::Env env) {
  std::shared_ptr<EventChannel> channel(new EventChannel(env));
  // The threadsafe function's context keeps the channel alive until its finalizer.
  auto holder = std::make_unique<std::shared_ptr<EventChannel>>(channel);
  napi_value name = Napi::String::New(env, "hyperlight vCPU events");
  napi_threadsafe_function tsfn;
  napi_status status = napi_create_threadsafe_function(env, nullptr, nullptr, name, 0 /* unbounded queue */, 1,
                                                       holder.get(), Finalize, holder.get(), CallJs, &tsfn);
  NAPI_THROW_IF_FAILED(env, status, nullptr);
  holder.release();  // owned by the threadsafe function now
  status = napi_unref_threadsafe_function(env, tsfn);
  NAPI_THROW_IF_FAILED(env, status, nullptr);
  channel->tsfn_ = tsfn;
  return channel;
}

EventChannel::~EventChannel() {
  // Close() or Finalize() released the callbacks on the JS thread; whichever
  // thread drops the last reference must not touch JS.
  run_done_.SuppressDestruct();
  cancel_listener_.SuppressDestruct();
}

void EventChannel::Post(const VcpuEvent& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (tsfn_ == nullptr) return;
  auto* copy = new VcpuEvent(event);
  // Non-blocking on an unbounded queue: never waits, fails only when closing.
  if (napi_call_threadsafe_function(tsfn_, copy, napi_tsfn_nonblocking) != napi_ok) delete copy;
}

void EventChannel::BeginRun(Napi::Function done) {
  run_done_ = Napi::Persistent(done);
  run_pending_ = true;
  UpdateRef();
}

void EventChannel::SetCancelListener(Napi::Function listener) {
  if (listener.IsEmpty()) {
    cancel_listener_.Reset();
  } else {
    cancel_listener_ = Napi::Persistent(listener);
  }
  UpdateRef();
}

void EventChannel::Close() {
  napi_threadsafe_function tsfn;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tsfn = tsfn_;
    tsfn_ = nullptr;
  }
  // Abort: events still queued reach CallJs with a null env and are freed.
  if (tsfn != nullptr) napi_release_threadsafe_function(tsfn, napi_tsfn_abort);
  run_done_.Reset();
  cancel_listener_.Reset();
  run_pending_ = false;
  referenced_ = false;
}

void EventChannel::UpdateRef() {
  bool wanted = run_pending_ || !cancel_listener_.IsEmpty();
  if (wanted == referenced_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (tsfn_ == nullptr) return;
  if (wanted) {
    napi_ref_threadsafe_function(env_, tsfn_);
  } else {
    napi_unref_threadsafe_function(env_, tsfn_);
  }
  referenced_ = wanted;
}

void EventChannel::CallJs(napi_env env, napi_value, void* context, void* data) {
  std::unique_ptr<VcpuEvent> event(static_cast<VcpuEvent*>(data));
  if (env == nullptr) return;  // closing: only free the event
  std::shared_ptr<EventChannel>& channel = *static_cast<std::shared_ptr<EventChannel>*>(context);
  try {
    channel->Deliver(Napi::Env(env), *event);
  } catch (const Napi::Error& error) {
    // A throwing callback: hand the exception back to Node, which reports it
    // as uncaught, as it would for a throwing timer callback.
    error.ThrowAsJavaScriptException();
  }
}

void EventChannel::Deliver(Napi::Env env, const VcpuEvent& event) {
  switch (event.kind) {
    case VcpuEvent::Kind::kRunDone: {
      if (!run_pending_) return;  // Close() ran first
      Napi::Function done = run_done_.Value();
      run_done_.Reset();
      run_pending_ = false;
      UpdateRef();
      const RunOutcome& run = event.run;
      Napi::Value error = env.Null();
      if (run.error != 0) error = SystemError(env, run.error, run.syscall, nullptr, run.hint).Value();
      done.Call({error, Napi::Number::New(env, run.exit_reason)});
      return;
    }
    case VcpuEvent::Kind::kCancelled: {
      if (cancel_listener_.IsEmpty()) return;
      cancel_listener_.Value().Call({Napi::Number::New(env, event.seq), Napi::Number::New(env, event.reason)});
      return;
    }
  }
}

void EventChannel::Finalize(napi_env, void* data, void*) {
  std::unique_ptr<std::shared_ptr<EventChannel>> holder(static_cast<std::shared_ptr<EventChannel>*>(data));
  EventChannel& channel = **holder;
  {
    std::lock_guard<std::mutex> lock(channel.mutex_);
    channel.tsfn_ = nullptr;
  }
  channel.run_done_.Reset();
  channel.cancel_listener_.Reset();
  channel.run_pending_ = false;
  channel.referenced_ = false;
}

}  // namespace hyperlight_native
