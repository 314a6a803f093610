// MshvPartition: one partition fd (the surface's MshvPartition), from
// MshvDevice.createPartition(). It creates VPs and maps guest memory.
//
// What the hypervisor may still use lives in a PartitionState that the
// partition object, each of its VPs and each VP's register-page mapping share:
// the partition fd and the host mappings behind its guest-memory regions. The
// state, and with it the fd and the regions' hold on their memory, goes only
// when the last of them does, so the partition outlives its VPs and no host
// range is given back while a guest could still reach it.
//
//   live --setGuestMemory(map)--> region held --setGuestMemory(UNMAP, same triple)--> released
//   live --dispose()--> this object unusable; the state lives on while VPs or mappings hold it
#ifndef HYPERLIGHT_MSHV_MSHV_PARTITION_H_
#define HYPERLIGHT_MSHV_MSHV_PARTITION_H_

#include <napi.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "guest_memory.h"
#include "unique_fd.h"

namespace hyperlight_mshv {

using namespace hyperlight_native;

struct PartitionState {
  // One MSHV_SET_GUEST_MEMORY mapping: the kernel's key (an unmap must repeat
  // it exactly) and the host memory, kept mapped at its address until then.
  struct Region {
    uint64_t size;
    uint64_t guest_pfn;
    uint64_t userspace_addr;
    std::shared_ptr<Mapping> mapping;
  };

  explicit PartitionState(UniqueFd partition_fd) : fd(std::move(partition_fd)) {}
  // The fd closes first (the kernel tears the partition down and lets go of
  // the regions), then the host memory may be unmapped.
  ~PartitionState() {
    fd.Reset();
    regions.clear();
  }
  PartitionState(const PartitionState&) = delete;
  PartitionState& operator=(const PartitionState&) = delete;

  UniqueFd fd;
  std::vector<Region> regions;
};

class MshvPartition : public Napi::ObjectWrap<MshvPartition> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A new MshvPartition JS object owning `fd`.
  static Napi::Object New(Napi::Env env, UniqueFd fd);

  // Only MshvDevice.createPartition() constructs partitions; `new MshvPartition()` in JS throws.
  explicit MshvPartition(const Napi::CallbackInfo& info);

 private:
  int Fd(Napi::Env env, const char* method) const;
  Napi::Value Ioctl(const Napi::CallbackInfo& info);
  Napi::Value CreateVp(const Napi::CallbackInfo& info);        // MSHV_CREATE_VP, then the VP maps its register page
  Napi::Value SetGuestMemory(const Napi::CallbackInfo& info);  // MSHV_SET_GUEST_MEMORY
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<PartitionState> state_;
};

}  // namespace hyperlight_mshv

#endif  // HYPERLIGHT_MSHV_MSHV_PARTITION_H_
