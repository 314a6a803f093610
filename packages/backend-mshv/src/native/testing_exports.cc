#include "testing_exports.h"

#include <errno.h>
#include <fcntl.h>

#include <memory>

#include "js_number.h"
#include "mshv_partition.h"
#include "mshv_vp.h"
#include "throw.h"

namespace hyperlight_mshv {

namespace {

UniqueFd Duplicate(const Napi::CallbackInfo& info, const char* method) {
  int fd = static_cast<int>(GetUint(info.Env(), info[0], INT32_MAX, std::string(method) + "(fd): fd"));
  UniqueFd copy(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy.Valid()) ThrowSystemError(info.Env(), errno, "fcntl(F_DUPFD_CLOEXEC)");
  return copy;
}

Napi::Value PartitionOverFd(const Napi::CallbackInfo& info) {
  return MshvPartition::New(info.Env(), Duplicate(info, "testing.partitionOverFd"));
}

// The VP's partition state has no fd: nothing to close when it goes.
Napi::Value VpOverFd(const Napi::CallbackInfo& info) {
  UniqueFd fd = Duplicate(info, "testing.vpOverFd");
  const bool worker_thread = info.Length() > 1 && info[1].ToBoolean().Value();
  return MshvVp::New(info.Env(), std::move(fd), std::make_shared<PartitionState>(UniqueFd()), worker_thread);
}

}  // namespace

Napi::Object TestingExports(Napi::Env env) {
  Napi::Object testing = Napi::Object::New(env);
  testing.Set("partitionOverFd", Napi::Function::New<PartitionOverFd>(env, "partitionOverFd"));
  testing.Set("vpOverFd", Napi::Function::New<VpOverFd>(env, "vpOverFd"));
  return testing;
}

}  // namespace hyperlight_mshv
