// Module initialisation: registers the KVM classes and the shared ones
// (shared_exports.h: GuestMemory, SnapshotMemory, mapSnapshotFile, cancelCall,
// kickSignal), and exports `abi`, the KVM constants, run-block
// offsets and call-state layout this addon was compiled with, which
// load-native.ts compares with its own copy before anything is used.
#include <linux/kvm.h>
#include <napi.h>

#include "kvm.h"
#include "kvm_addon_data.h"
#include "run_block.h"
#include "shared_exports.h"
#include "vcpu_fd.h"
#include "vm_fd.h"

namespace hyperlight_kvm {
namespace {

Napi::Object KvmConstants(Napi::Env env) {
  Napi::Object constants = Napi::Object::New(env);
  auto set = [&](const char* name, uint32_t value) { constants.Set(name, Napi::Number::New(env, value)); };
  set("KVM_API_VERSION", KVM_API_VERSION);
  set("KVM_CAP_SYNC_REGS", KVM_CAP_SYNC_REGS);
  set("KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT);
  set("KVM_CAP_XCRS", KVM_CAP_XCRS);
  set("KVM_SYNC_X86_REGS", KVM_SYNC_X86_REGS);
  set("KVM_SYNC_X86_SREGS", KVM_SYNC_X86_SREGS);
  set("KVM_EXIT_UNKNOWN", KVM_EXIT_UNKNOWN);
  set("KVM_EXIT_EXCEPTION", KVM_EXIT_EXCEPTION);
  set("KVM_EXIT_IO", KVM_EXIT_IO);
  set("KVM_EXIT_HYPERCALL", KVM_EXIT_HYPERCALL);
  set("KVM_EXIT_DEBUG", KVM_EXIT_DEBUG);
  set("KVM_EXIT_HLT", KVM_EXIT_HLT);
  set("KVM_EXIT_MMIO", KVM_EXIT_MMIO);
  set("KVM_EXIT_IRQ_WINDOW_OPEN", KVM_EXIT_IRQ_WINDOW_OPEN);
  set("KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN);
  set("KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
  set("KVM_EXIT_INTR", KVM_EXIT_INTR);
  set("KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
  set("KVM_EXIT_SYSTEM_EVENT", KVM_EXIT_SYSTEM_EVENT);
  set("KVM_EXIT_IO_IN", KVM_EXIT_IO_IN);
  set("KVM_EXIT_IO_OUT", KVM_EXIT_IO_OUT);
  set("KVM_INTERNAL_ERROR_EMULATION", KVM_INTERNAL_ERROR_EMULATION);
  set("KVM_INTERNAL_ERROR_SIMUL_EX", KVM_INTERNAL_ERROR_SIMUL_EX);
  set("KVM_INTERNAL_ERROR_DELIVERY_EV", KVM_INTERNAL_ERROR_DELIVERY_EV);
  set("KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON", KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);
  return constants;
}

Napi::Object RunBlockLayout(Napi::Env env) {
  namespace rb = run_block;
  Napi::Object layout = Napi::Object::New(env);
  auto set = [&](const char* name, size_t value) { layout.Set(name, Napi::Number::New(env, static_cast<double>(value))); };
  set("size", rb::kSize);
  set("regsU64", rb::kRegsU64);
  set("regCount", rb::kRegCount);
  set("mmioGpaU64", rb::kMmioGpaU64);
  set("failEntryReasonU64", rb::kFailEntryReasonU64);
  set("internalDataU64", rb::kInternalDataU64);
  set("internalDataCount", rb::kInternalDataCount);
  set("exitReasonU32", rb::kExitReasonU32);
  set("ioDirectionU32", rb::kIoDirectionU32);
  set("ioSizeU32", rb::kIoSizeU32);
  set("ioPortU32", rb::kIoPortU32);
  set("ioCountU32", rb::kIoCountU32);
  set("ioValueU32", rb::kIoValueU32);
  set("mmioSizeU32", rb::kMmioSizeU32);
  set("mmioIsWriteU32", rb::kMmioIsWriteU32);
  set("internalSuberrorU32", rb::kInternalSuberrorU32);
  set("internalNdataU32", rb::kInternalNdataU32);
  set("failEntryCpuU32", rb::kFailEntryCpuU32);
  return layout;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KvmAddonData* data = InstallAddonData<KvmAddonData>(env);

  Napi::Function kvm = Kvm::Define(env);
  Napi::Function vm_fd = VmFd::Define(env);
  Napi::Function vcpu_fd = VcpuFd::Define(env);
  data->kvm_constructor = Napi::Persistent(kvm);
  data->vm_fd_constructor = Napi::Persistent(vm_fd);
  data->vcpu_fd_constructor = Napi::Persistent(vcpu_fd);

  exports.Set("Kvm", kvm);
  exports.Set("VmFd", vm_fd);
  exports.Set("VcpuFd", vcpu_fd);

  Napi::Object abi = Napi::Object::New(env);
  abi.Set("kvm", KvmConstants(env));
  abi.Set("runBlock", RunBlockLayout(env));
  ExportShared(env, exports, abi);
  exports.Set("abi", abi);
  return exports;
}

}  // namespace
}  // namespace hyperlight_kvm

// The registration macro pastes the function name into an identifier, so it
// needs an unqualified name.
static Napi::Object InitHyperlightKvm(Napi::Env env, Napi::Object exports) { return hyperlight_kvm::Init(env, exports); }

NODE_API_MODULE(hyperlight_kvm, InitHyperlightKvm)
