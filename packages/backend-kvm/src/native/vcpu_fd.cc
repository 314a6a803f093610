#include "vcpu_fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "convert.h"
#include "kvm_abi.h"
#include "kvm_addon_data.h"
#include "throw.h"

namespace hyperlight_kvm {

namespace {

// x87/SSE power-on state (SDM vol. 1 §8.1.5, §10.2.3): FCW 0x37f masks every
// x87 exception; MXCSR 0x1f80 masks every SSE exception.
constexpr uint16_t kDefaultFcw = 0x37f;
constexpr uint32_t kDefaultMxcsr = 0x1f80;
// KVM_GET_CPUID2 fails with E2BIG until the buffer holds every entry.
constexpr uint32_t kFirstCpuidCapacity = 256;
constexpr uint32_t kMaxCpuidCapacity = 4096;
// Marks a CPUID slot KVM_GET_CPUID2 did not fill (see GetCpuid2).
constexpr uint32_t kUnusedCpuidEntryFlags = 0xffffffff;

void FinalizeBlock(napi_env, void*, void* hint) { delete static_cast<std::shared_ptr<RunBlockStorage>*>(hint); }

}  // namespace

Napi::Function VcpuFd::Define(Napi::Env env) {
  std::vector<PropertyDescriptor> properties = {
      InstanceAccessor<&VcpuFd::GetRunBlock>("runBlock"),
      InstanceMethod<&VcpuFd::Run>("run"),
      InstanceMethod<&VcpuFd::SetImmediateExit>("setImmediateExit"),
      InstanceMethod<&VcpuFd::RunAsync>("runAsync"),
  };
  AddCallGuardMembers<VcpuFd>(properties);
  properties.insert(properties.end(), {
      InstanceMethod<&VcpuFd::GetRegs>("getRegs"),
      InstanceMethod<&VcpuFd::SetRegs>("setRegs"),
      InstanceMethod<&VcpuFd::GetSregs>("getSregs"),
      InstanceMethod<&VcpuFd::SetSregs>("setSregs"),
      InstanceMethod<&VcpuFd::StageSregs>("stageSregs"),
      InstanceMethod<&VcpuFd::ResetFpu>("resetFpu"),
      InstanceMethod<&VcpuFd::GetXsave>("getXsave"),
      InstanceMethod<&VcpuFd::SetXsave>("setXsave"),
      InstanceMethod<&VcpuFd::GetCpuid2>("getCpuid2"),
      InstanceMethod<&VcpuFd::SetCpuid2>("setCpuid2"),
      InstanceMethod<&VcpuFd::GetXcrs>("getXcrs"),
      InstanceMethod<&VcpuFd::SetXcrs>("setXcrs"),
      InstanceMethod<&VcpuFd::GetTscKhz>("getTscKhz"),
      InstanceMethod<&VcpuFd::Dispose>("dispose"),
  });
  if (std::optional<Napi::Symbol> dispose = DisposeSymbol(env)) {
    properties.push_back(InstanceMethod<&VcpuFd::Dispose>(*dispose));
  }
  return DefineClass(env, "VcpuFd", properties);
}

VcpuFd::VcpuFd(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VcpuFd>(info), VcpuRunner("VcpuFd") {
  Napi::Env env = info.Env();
  Init* init = TakeInternalInit<Init>(info);
  if (init == nullptr) ThrowTypeError(env, "VcpuFd cannot be constructed directly; use VmFd.createVcpu()");
  fd_ = std::move(init->fd);
  sync_regs_mask_ = init->sync_regs_mask;
  xsave_size_ = init->xsave_size;
  has_xsave2_ = init->has_xsave2;
  slots_ = std::move(init->slots);

  // A throwing constructor never runs the destructor: release by hand.
  try {
    void* run = mmap(nullptr, init->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.Get(), 0);
    if (run == MAP_FAILED) ThrowSystemError(env, errno, "mmap", nullptr, "mapping the vCPU's kvm_run");
    run_ = static_cast<kvm_run*>(run);
    run_size_ = init->mmap_size;

    block_ = std::make_shared<RunBlockStorage>();
    auto hold = std::make_unique<std::shared_ptr<RunBlockStorage>>(block_);
    napi_value buffer;
    // SAFETY: the ArrayBuffer covers exactly the block, and `hold` keeps the
    // block alive until V8 frees the buffer's backing store.
    napi_status status = napi_create_external_arraybuffer(env, block_->bytes, sizeof block_->bytes, FinalizeBlock,
                                                          hold.get(), &buffer);
    NAPI_THROW_IF_FAILED_VOID(env, status);
    hold.release();  // now owned by the buffer's finalizer
    block_buffer_ = Napi::Reference<Napi::ArrayBuffer>::New(Napi::ArrayBuffer(env, buffer), 1);

    // SAFETY: immediate_exit stays mapped until Release(), after ReleaseRuns() detached it.
    StartRunControl(env, init->worker_thread, &run_->immediate_exit);

    if (int error = LoadRegsIntoBlock(fd_.Get())) ThrowSystemError(env, error, "KVM_GET_REGS");
  } catch (...) {
    Release();
    throw;
  }
}

VcpuFd::~VcpuFd() { Release(); }

void VcpuFd::Release() {
  ReleaseRuns();  // from here nothing touches kvm_run on another thread
  if (run_ != nullptr) {
    // SAFETY: run_ came from mmap of run_size_ bytes and nothing uses it after this.
    munmap(run_, run_size_);
    run_ = nullptr;
  }
  fd_.Reset();
  slots_.reset();  // the mappings stay mapped while the VmFd still holds the table
  block_.reset();
}

int VcpuFd::Fd(Napi::Env env, const char* method) const {
  if (!fd_.Valid()) ThrowDisposed(env, method);
  AssertIdle(env, method);
  return fd_.Get();
}

int VcpuFd::LoadRegsIntoBlock(int fd) {
  kvm_regs regs;
  if (ioctl(fd, KVM_GET_REGS, &regs) < 0) return errno;
  memcpy(block_->u64() + run_block::kRegsU64, &regs, sizeof regs);
  regs_dirty_ = false;
  return 0;
}

Napi::Value VcpuFd::GetRunBlock(const Napi::CallbackInfo& info) {
  Fd(info.Env(), "VcpuFd.runBlock");
  return block_buffer_.Value();
}

// run(loadRegs = false): number — the KVM exit reason (KVM_EXIT_INTR when
// KVM_RUN was interrupted by a signal or immediate_exit). With loadRegs the
// registers in the run block are loaded first, in the same KVM_RUN through
// sync_regs. Details of the exit and the registers at the exit are in the run
// block afterwards.
Napi::Value VcpuFd::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "VcpuFd.run");
  if (info.Length() > 0 && info[0].ToBoolean().Value()) regs_dirty_ = true;
  return RunHere(env);
}

RunOutcome VcpuFd::RunOnce(pid_t tid) {
  const int fd = fd_.Get();
  uint64_t* block_regs = block_->u64() + run_block::kRegsU64;

  uint32_t dirty = 0;
  if (regs_dirty_) {
    if (CanSync(KVM_SYNC_X86_REGS)) {
      memcpy(&run_->s.regs.regs, block_regs, sizeof(kvm_regs));
      dirty |= KVM_SYNC_X86_REGS;
    } else {
      if (ioctl(fd, KVM_SET_REGS, block_regs) < 0) return RunOutcome::Failed(errno, "KVM_SET_REGS");
      regs_dirty_ = false;
    }
  }
  if (sregs_staged_) dirty |= KVM_SYNC_X86_SREGS;  // only staged when CanSync(KVM_SYNC_X86_SREGS)
  // SAFETY: run_ is the live kvm_run mapping of this vCPU (callers checked Fd()).
  run_->kvm_dirty_regs = dirty;
  run_->kvm_valid_regs = sync_regs_mask_ & KVM_SYNC_X86_REGS;

  int error = control().Run(tid, [fd] { return ioctl(fd, KVM_RUN, 0); });

  // KVM clears each kvm_dirty_regs bit as it loads that state; a bit still set
  // means the state was not loaded (it was rejected, or KVM_RUN failed first).
  uint32_t not_loaded = run_->kvm_dirty_regs & dirty;
  run_->kvm_dirty_regs = 0;
  regs_dirty_ = (not_loaded & KVM_SYNC_X86_REGS) != 0;
  bool sregs_rejected = (not_loaded & KVM_SYNC_X86_SREGS) != 0;
  sregs_staged_ = false;

  if (!regs_dirty_) {
    if (CanSync(KVM_SYNC_X86_REGS)) {
      // KVM stored the registers at the exit because kvm_valid_regs asked for them.
      memcpy(block_regs, &run_->s.regs.regs, sizeof(kvm_regs));
    } else if (error == 0 || error == EINTR) {
      if (int get_error = LoadRegsIntoBlock(fd)) return RunOutcome::Failed(get_error, "KVM_GET_REGS");
    }
  }

  if (error != 0 && error != EINTR) {
    return RunOutcome::Failed(error, "KVM_RUN", sregs_rejected ? "KVM rejected the special registers staged with stageSregs()" : nullptr);
  }
  // EINTR: a signal or immediate_exit stopped KVM_RUN before the guest exited;
  // kvm_run.exit_reason is not updated on the immediate_exit path, so set it here.
  uint32_t reason = error != 0 ? KVM_EXIT_INTR : run_->exit_reason;
  if (int record_error = RecordExit(reason)) {
    return RunOutcome::Failed(record_error, "KVM_RUN", "KVM_EXIT_IO data lies outside the kvm_run mapping");
  }
  return reason == KVM_EXIT_INTR ? RunOutcome::Interrupted(reason) : RunOutcome::Exit(reason);
}

// runAsync(loadRegs, done): run() on the vCPU's own thread; `done(error,
// exitReason)` is called on this thread's event loop. Stray interruptions are
// retried there; KVM_EXIT_INTR comes back only for a cancel or a dispose.
Napi::Value VcpuFd::RunAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "VcpuFd.runAsync");
  if (info.Length() < 2 || !info[1].IsFunction()) {
    ThrowTypeError(env, "VcpuFd.runAsync(loadRegs, done): done must be a function");
  }
  if (info[0].ToBoolean().Value()) regs_dirty_ = true;
  StartRun(env, info[1].As<Napi::Function>());
  return env.Undefined();
}

// setImmediateExit(enabled): sets kvm_run.immediate_exit, so the next run
// returns KVM_EXIT_INTR at once without entering the guest (KVM_CAP_IMMEDIATE_EXIT).
// run() clears it again when it returns. This is the flag a canceller sets
// before kicking a running vCPU with a signal.
Napi::Value VcpuFd::SetImmediateExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd(env, "VcpuFd.setImmediateExit");
  if (info.Length() < 1 || !info[0].IsBoolean()) {
    ThrowTypeError(env, "VcpuFd.setImmediateExit(enabled): enabled must be a boolean");
  }
  // SAFETY: run_ is the live kvm_run mapping (checked by Fd()); atomic like
  // the cancellers' stores (run_control.h).
  __atomic_store_n(&run_->immediate_exit, info[0].As<Napi::Boolean>().Value() ? 1 : 0, __ATOMIC_SEQ_CST);
  return env.Undefined();
}

int VcpuFd::RecordExit(uint32_t reason) {
  uint64_t* u64 = block_->u64();
  uint32_t* u32 = block_->u32();
  u32[run_block::kExitReasonU32] = reason;
  switch (reason) {
    case KVM_EXIT_IO: {
      const auto& io = run_->io;
      const uint64_t data_size = static_cast<uint64_t>(io.size) * io.count;
      // SAFETY: KVM places the port data inside the kvm_run mapping; checked so
      // that a bad offset can never make this code touch memory past it.
      if (io.data_offset > run_size_ || data_size > run_size_ - io.data_offset || io.size > sizeof(uint32_t)) {
        return EFAULT;
      }
      uint8_t* data = reinterpret_cast<uint8_t*>(run_) + io.data_offset;
      uint32_t value = 0;
      if (io.direction == KVM_EXIT_IO_OUT) {
        memcpy(&value, data, io.size);  // little-endian, zero-extended to 32 bits
      } else {
        // The guest's `in` completes on the next KVM_RUN with whatever is here:
        // answer zeroes rather than stale bytes of an earlier exit.
        memset(data, 0, data_size);
      }
      u32[run_block::kIoDirectionU32] = io.direction;
      u32[run_block::kIoSizeU32] = io.size;
      u32[run_block::kIoPortU32] = io.port;
      u32[run_block::kIoCountU32] = io.count;
      u32[run_block::kIoValueU32] = value;
      break;
    }
    case KVM_EXIT_MMIO: {
      auto& mmio = run_->mmio;
      // Reads of unbacked guest-physical memory complete with zeroes, as `in` does.
      if (!mmio.is_write) memset(mmio.data, 0, sizeof mmio.data);
      u64[run_block::kMmioGpaU64] = mmio.phys_addr;
      u32[run_block::kMmioSizeU32] = mmio.len;
      u32[run_block::kMmioIsWriteU32] = mmio.is_write;
      break;
    }
    case KVM_EXIT_INTERNAL_ERROR: {
      const auto& internal = run_->internal;
      u32[run_block::kInternalSuberrorU32] = internal.suberror;
      u32[run_block::kInternalNdataU32] = internal.ndata;
      for (size_t i = 0; i < run_block::kInternalDataCount; i++) {
        u64[run_block::kInternalDataU64 + i] = i < internal.ndata ? internal.data[i] : 0;
      }
      break;
    }
    case KVM_EXIT_FAIL_ENTRY:
      u64[run_block::kFailEntryReasonU64] = run_->fail_entry.hardware_entry_failure_reason;
      u32[run_block::kFailEntryCpuU32] = run_->fail_entry.cpu;
      break;
    default:
      break;
  }
  return 0;
}

Napi::Value VcpuFd::GetRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getRegs");
  kvm_regs regs;
  if (ioctl(fd, KVM_GET_REGS, &regs) < 0) ThrowSystemError(env, errno, "KVM_GET_REGS");
  memcpy(block_->u64() + run_block::kRegsU64, &regs, sizeof regs);
  regs_dirty_ = false;
  return RegsToJs(env, regs);
}

Napi::Value VcpuFd::SetRegs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.setRegs");
  kvm_regs regs = RegsFromJs(env, info[0], "regs");
  if (ioctl(fd, KVM_SET_REGS, &regs) < 0) ThrowSystemError(env, errno, "KVM_SET_REGS");
  memcpy(block_->u64() + run_block::kRegsU64, &regs, sizeof regs);
  regs_dirty_ = false;
  return env.Undefined();
}

Napi::Value VcpuFd::GetSregs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getSregs");
  // Staged registers are what the vCPU will have once the next run starts.
  if (sregs_staged_) return SregsToJs(env, run_->s.regs.sregs);
  kvm_sregs sregs;
  if (ioctl(fd, KVM_GET_SREGS, &sregs) < 0) ThrowSystemError(env, errno, "KVM_GET_SREGS");
  return SregsToJs(env, sregs);
}

Napi::Value VcpuFd::SetSregs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.setSregs");
  kvm_sregs sregs = SregsFromJs(env, info[0], "sregs");
  if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) ThrowSystemError(env, errno, "KVM_SET_SREGS");
  sregs_staged_ = false;
  // Without an in-kernel local APIC, every KVM_RUN reloads CR8 from kvm_run.cr8
  // (Linux arch/x86/kvm/x86.c, kvm_arch_vcpu_ioctl_run), which would undo the CR8 just set.
  run_->cr8 = sregs.cr8;
  return env.Undefined();
}

Napi::Value VcpuFd::StageSregs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.stageSregs");
  kvm_sregs sregs = SregsFromJs(env, info[0], "sregs");
  if (CanSync(KVM_SYNC_X86_SREGS)) {
    // SAFETY: run_ is live (checked by Fd()); KVM reads s.regs.sregs only
    // inside KVM_RUN on this thread.
    run_->s.regs.sregs = sregs;
    sregs_staged_ = true;
  } else if (ioctl(fd, KVM_SET_SREGS, &sregs) < 0) {
    ThrowSystemError(env, errno, "KVM_SET_SREGS");
  }
  run_->cr8 = sregs.cr8;  // see SetSregs
  return env.Undefined();
}

// KVM_SET_FPU cannot do this alone: KVM ignores its mxcsr field (Linux
// arch/x86/kvm/x86.c, kvm_arch_vcpu_ioctl_set_fpu). With KVM_CAP_XSAVE the
// reset is one KVM_SET_XSAVE of a prepared image: the legacy region holds FCW
// 0x37f and MXCSR 0x1f80 with every register zero, and XSTATE_BV names only
// x87 and SSE, so every other component (AVX, AVX-512, ...) returns to its
// initial state too.
Napi::Value VcpuFd::ResetFpu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.resetFpu");
  if (xsave_size_ == 0) {
    kvm_fpu fpu = {};
    fpu.fcw = kDefaultFcw;
    fpu.mxcsr = kDefaultMxcsr;  // ignored by KVM; MXCSR keeps its value without KVM_CAP_XSAVE
    if (ioctl(fd, KVM_SET_FPU, &fpu) < 0) ThrowSystemError(env, errno, "KVM_SET_FPU");
    return env.Undefined();
  }
  if (fpu_reset_image_.empty()) {
    std::vector<uint8_t> current(xsave_size_);
    // SAFETY: both buffers hold xsave_size_ bytes, at least what KVM reads or
    // writes (KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2), or 4096 without it).
    if (ioctl(fd, has_xsave2_ ? kvm_abi::kGetXsave2 : kvm_abi::kGetXsave, current.data()) < 0) {
      ThrowSystemError(env, errno, has_xsave2_ ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
    }
    std::vector<uint8_t> image(xsave_size_, 0);
    const uint16_t fcw = kDefaultFcw;
    const uint32_t mxcsr = kDefaultMxcsr;
    const uint64_t xstate_bv = kvm_abi::kXfeatureX87 | kvm_abi::kXfeatureSse;
    memcpy(&image[kvm_abi::kXsaveFcwOffset], &fcw, sizeof fcw);
    memcpy(&image[kvm_abi::kXsaveMxcsrOffset], &mxcsr, sizeof mxcsr);
    // MXCSR_MASK describes the CPU, not the state: keep what KVM reported.
    memcpy(&image[kvm_abi::kXsaveMxcsrMaskOffset], &current[kvm_abi::kXsaveMxcsrMaskOffset], sizeof(uint32_t));
    memcpy(&image[kvm_abi::kXsaveXstateBvOffset], &xstate_bv, sizeof xstate_bv);
    fpu_reset_image_ = std::move(image);
  }
  if (ioctl(fd, kvm_abi::kSetXsave, fpu_reset_image_.data()) < 0) ThrowSystemError(env, errno, "KVM_SET_XSAVE");
  return env.Undefined();
}

// getXsave(): Uint8Array — the x87/SSE/AVX state as KVM stores it: the
// XSAVE area in standard (non-compacted) format, xsave_size_ bytes, or with
// no KVM_CAP_XSAVE a struct kvm_fpu.
Napi::Value VcpuFd::GetXsave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getXsave");
  if (xsave_size_ == 0) {
    Napi::Uint8Array state = Napi::Uint8Array::New(env, sizeof(kvm_fpu));
    // SAFETY: the array holds sizeof(kvm_fpu) bytes, what KVM_GET_FPU writes.
    if (ioctl(fd, KVM_GET_FPU, state.Data()) < 0) ThrowSystemError(env, errno, "KVM_GET_FPU");
    return state;
  }
  Napi::Uint8Array state = Napi::Uint8Array::New(env, xsave_size_);
  // SAFETY: the array holds xsave_size_ bytes, what KVM_GET_XSAVE2 writes
  // (KVM_CHECK_EXTENSION(KVM_CAP_XSAVE2)), and at least KVM_GET_XSAVE's 4096.
  if (ioctl(fd, has_xsave2_ ? kvm_abi::kGetXsave2 : kvm_abi::kGetXsave, state.Data()) < 0) {
    ThrowSystemError(env, errno, has_xsave2_ ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
  }
  return state;
}

// setXsave(state): loads what getXsave() returned. KVM checks the contents
// (XSTATE_BV against the guest's XCR0 support, MXCSR reserved bits) and
// answers EINVAL. Without KVM_CAP_XSAVE this is KVM_SET_FPU, which ignores
// the MXCSR field (see ResetFpu).
Napi::Value VcpuFd::SetXsave(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.setXsave");
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowTypeError(env, "VcpuFd.setXsave(state): state must be a Uint8Array");
  }
  Napi::Uint8Array state = info[0].As<Napi::Uint8Array>();
  const size_t expected = xsave_size_ == 0 ? sizeof(kvm_fpu) : xsave_size_;
  if (state.ByteLength() != expected) {
    ThrowRangeError(env, "VcpuFd.setXsave(state): state must be " + std::to_string(expected) + " bytes (" +
                             (xsave_size_ == 0 ? "struct kvm_fpu" : "this KVM's XSAVE area") + "), got " +
                             std::to_string(state.ByteLength()));
  }
  // SAFETY: KVM reads exactly `expected` bytes, the array's length (checked).
  if (xsave_size_ == 0) {
    if (ioctl(fd, KVM_SET_FPU, state.Data()) < 0) ThrowSystemError(env, errno, "KVM_SET_FPU");
  } else if (ioctl(fd, kvm_abi::kSetXsave, state.Data()) < 0) {
    ThrowSystemError(env, errno, "KVM_SET_XSAVE");
  }
  return env.Undefined();
}

Napi::Value VcpuFd::GetCpuid2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getCpuid2");
  for (uint32_t capacity = kFirstCpuidCapacity; capacity <= kMaxCpuidCapacity; capacity *= 2) {
    kvm_abi::CpuidBuffer cpuid(capacity);
    // Some kernels (e.g. Linux 6.1) do not write the entry count back on
    // success, so mark every slot first: an entry KVM stored never has all
    // flag bits set (it defines three).
    for (uint32_t i = 0; i < capacity; i++) cpuid.entries()[i].flags = kUnusedCpuidEntryFlags;
    // SAFETY: the buffer holds `nent` entries; KVM writes at most that many.
    if (ioctl(fd, kvm_abi::kGetCpuid2, cpuid.ioctl_arg()) == 0) {
      uint32_t count = cpuid.header()->nent;
      if (count == capacity) {
        count = 0;
        while (count < capacity && cpuid.entries()[count].flags != kUnusedCpuidEntryFlags) count++;
      }
      return CpuidEntriesToJs(env, cpuid.entries(), count);
    }
    if (errno != E2BIG) ThrowSystemError(env, errno, "KVM_GET_CPUID2");
  }
  ThrowSystemError(env, E2BIG, "KVM_GET_CPUID2", nullptr, "more than 4096 CPUID entries");
}

Napi::Value VcpuFd::SetCpuid2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.setCpuid2");
  std::vector<kvm_cpuid_entry2> entries = CpuidEntriesFromJs(env, info[0], "entries");
  kvm_abi::CpuidBuffer cpuid(static_cast<uint32_t>(entries.size()));
  std::copy(entries.begin(), entries.end(), cpuid.entries());
  // SAFETY: nent equals the number of entries allocated and copied.
  if (ioctl(fd, kvm_abi::kSetCpuid2, cpuid.ioctl_arg()) < 0) ThrowSystemError(env, errno, "KVM_SET_CPUID2");
  return env.Undefined();
}

Napi::Value VcpuFd::GetXcrs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getXcrs");
  kvm_xcrs xcrs = {};
  if (ioctl(fd, KVM_GET_XCRS, &xcrs) < 0) ThrowSystemError(env, errno, "KVM_GET_XCRS");
  return XcrsToJs(env, xcrs);
}

Napi::Value VcpuFd::SetXcrs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.setXcrs");
  kvm_xcrs xcrs = XcrsFromJs(env, info[0], "xcrs");
  if (ioctl(fd, KVM_SET_XCRS, &xcrs) < 0) ThrowSystemError(env, errno, "KVM_SET_XCRS");
  return env.Undefined();
}

// getTscKhz(): the guest's TSC frequency in kHz. KVM_GET_TSC_KHZ answers
// with the value itself, or -1 and errno (EIO when KVM does not know it).
Napi::Value VcpuFd::GetTscKhz(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = Fd(env, "VcpuFd.getTscKhz");
  int khz = ioctl(fd, KVM_GET_TSC_KHZ);
  if (khz < 0) ThrowSystemError(env, errno, "KVM_GET_TSC_KHZ");
  return Napi::Number::New(env, khz);
}

Napi::Value VcpuFd::Dispose(const Napi::CallbackInfo& info) {
  Release();
  block_buffer_.Reset();
  ResetJsReferences();
  return info.Env().Undefined();
}

}  // namespace hyperlight_kvm
