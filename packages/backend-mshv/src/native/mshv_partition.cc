#include "mshv_partition.h"

#include <errno.h>
#include <string.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ioctl_args.h"
#include "ioctl_retry.h"
#include "mshv_abi.h"
#include "mshv_addon_data.h"
#include "mshv_vp.h"
#include "throw.h"

namespace hyperlight_mshv {

namespace {

// What New() hands the constructor.
struct PartitionInit {
  UniqueFd fd;
};

}  // namespace

Napi::Function MshvPartition::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceMethod<&MshvPartition::Ioctl>("ioctl"),
      InstanceMethod<&MshvPartition::CreateVp>("createVp"),
      InstanceMethod<&MshvPartition::SetGuestMemory>("setGuestMemory"),
      InstanceMethod<&MshvPartition::Dispose>("dispose"),
  };
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&MshvPartition::Dispose>(*dispose));
  }
  return DefineClass(env, "MshvPartition", properties);
}

Napi::Object MshvPartition::New(Napi::Env env, UniqueFd fd) {
  PartitionInit init{std::move(fd)};
  return ConstructInternal(env, GetMshvAddonData(env).partition_constructor, &init);
}

MshvPartition::MshvPartition(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MshvPartition>(info) {
  PartitionInit* init = TakeInternalInit<PartitionInit>(info);
  if (init == nullptr) {
    ThrowTypeError(info.Env(), "MshvPartition cannot be constructed directly; use MshvDevice.createPartition()");
  }
  state_ = std::make_shared<PartitionState>(std::move(init->fd));
}

int MshvPartition::Fd(Napi::Env env, const char* method) const {
  if (state_ == nullptr) ThrowDisposed(env, method);
  return state_->fd.Get();
}

Napi::Value MshvPartition::Ioctl(const Napi::CallbackInfo& info) {
  return CallIoctl(info, Fd(info.Env(), "MshvPartition.ioctl"), "MshvPartition.ioctl");
}

// createVp(arg, options?): MshvVp — MSHV_CREATE_VP with `arg` (struct
// mshv_create_vp); the VP then maps its register page. `options.workerThread`:
// the VP belongs to a worker thread (the watchdog interrupts long runs).
Napi::Value MshvPartition::CreateVp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "MshvPartition.createVp");
  Napi::Uint8Array arg = BytesArg(env, info[0], sizeof(mshv_abi::CreateVp), "MshvPartition.createVp(arg): arg");
  bool worker_thread = false;
  if (info.Length() > 1 && !info[1].IsUndefined()) {
    if (!info[1].IsObject()) ThrowTypeError(env, "MshvPartition.createVp(arg, options): options must be an object");
    worker_thread = info[1].As<Napi::Object>().Get("workerThread").ToBoolean().Value();
  }
  mshv_abi::CreateVp create;
  memcpy(&create, arg.Data(), sizeof create);  // after every getter above ran
  UniqueFd vp_fd(IoctlRetryingEintr(fd, mshv_abi::kCreateVp, &create));
  if (!vp_fd.Valid()) ThrowSystemError(env, errno, "MSHV_CREATE_VP");
  return MshvVp::New(env, std::move(vp_fd), state_, worker_thread);
}

// setGuestMemory(arg, memory): MSHV_SET_GUEST_MEMORY with `arg` (struct
// mshv_user_mem_region), `memory`'s host address written into userspace_addr.
// A mapping holds the memory's host range until the UNMAP call with the same
// size, guest_pfn and address, or until the partition is gone.
Napi::Value MshvPartition::SetGuestMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "MshvPartition.setGuestMemory");
  const char* method = "MshvPartition.setGuestMemory";
  Napi::Uint8Array arg = BytesArg(env, info[0], sizeof(mshv_abi::UserMemRegion), "MshvPartition.setGuestMemory(arg, memory): arg");
  std::shared_ptr<Mapping> mapping = GuestMemory::MappingOf(env, info[1], method);

  mshv_abi::UserMemRegion region;
  memcpy(&region, arg.Data(), sizeof region);
  // Never more than the memory: the kernel would map whatever the host has after it.
  if (region.size == 0 || region.size > mapping->size()) {
    ThrowRangeError(env, std::string(method) + "(arg, memory): size must be 1 to " + std::to_string(mapping->size()) +
                             " bytes (the memory's), got " + std::to_string(region.size));
  }
  region.userspace_addr = reinterpret_cast<uintptr_t>(mapping->address());
  memcpy(arg.Data() + offsetof(mshv_abi::UserMemRegion, userspace_addr), &region.userspace_addr,
         sizeof region.userspace_addr);

  // SAFETY: the range is `mapping`, held below for as long as the partition may map it.
  if (IoctlRetryingEintr(fd, mshv_abi::kSetGuestMemory, &region) < 0) ThrowSystemError(env, errno, "MSHV_SET_GUEST_MEMORY");
  std::vector<PartitionState::Region>& regions = state_->regions;
  if ((region.flags & mshv_abi::kMemUnmap) == 0) {
    regions.push_back(PartitionState::Region{region.size, region.guest_pfn, region.userspace_addr, std::move(mapping)});
    return env.Undefined();
  }
  auto same = std::find_if(regions.begin(), regions.end(), [&](const PartitionState::Region& held) {
    return held.size == region.size && held.guest_pfn == region.guest_pfn && held.userspace_addr == region.userspace_addr;
  });
  if (same != regions.end()) regions.erase(same);
  return env.Undefined();
}

Napi::Value MshvPartition::Dispose(const Napi::CallbackInfo& info) {
  state_.reset();
  return info.Env().Undefined();
}

}  // namespace hyperlight_mshv
