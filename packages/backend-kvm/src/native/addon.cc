// Module initialisation: registers the KVM classes and the shared ones
// (shared_exports.h: GuestMemory, SnapshotMemory, mapSnapshotFile, cancelCall,
// kickSignal), and exports `abi`, the KVM constants, run-block
// offsets and call-state layout this addon was compiled with, which
// load-native.ts compares with its own copy before anything is used.
#include <linux/kvm.h>
#include <napi.h>

#include "js_number.h"
#include "kvm.h"
#include "kvm_addon_data.h"
#include "run_block.h"
#include "shared_exports.h"
#include "vcpu_fd.h"
#include "vm_fd.h"

namespace hyperlight_kvm {
namespace {

Napi::Object KvmConstants(Napi::Env env) {
  return NumberTable(env, {
                              {"KVM_API_VERSION", KVM_API_VERSION},
                              {"KVM_CAP_SYNC_REGS", KVM_CAP_SYNC_REGS},
                              {"KVM_CAP_IMMEDIATE_EXIT", KVM_CAP_IMMEDIATE_EXIT},
                              {"KVM_CAP_XCRS", KVM_CAP_XCRS},
                              {"KVM_SYNC_X86_REGS", KVM_SYNC_X86_REGS},
                              {"KVM_SYNC_X86_SREGS", KVM_SYNC_X86_SREGS},
                              {"KVM_EXIT_UNKNOWN", KVM_EXIT_UNKNOWN},
                              {"KVM_EXIT_EXCEPTION", KVM_EXIT_EXCEPTION},
                              {"KVM_EXIT_IO", KVM_EXIT_IO},
                              {"KVM_EXIT_HYPERCALL", KVM_EXIT_HYPERCALL},
                              {"KVM_EXIT_DEBUG", KVM_EXIT_DEBUG},
                              {"KVM_EXIT_HLT", KVM_EXIT_HLT},
                              {"KVM_EXIT_MMIO", KVM_EXIT_MMIO},
                              {"KVM_EXIT_IRQ_WINDOW_OPEN", KVM_EXIT_IRQ_WINDOW_OPEN},
                              {"KVM_EXIT_SHUTDOWN", KVM_EXIT_SHUTDOWN},
                              {"KVM_EXIT_FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY},
                              {"KVM_EXIT_INTR", KVM_EXIT_INTR},
                              {"KVM_EXIT_INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR},
                              {"KVM_EXIT_SYSTEM_EVENT", KVM_EXIT_SYSTEM_EVENT},
                              {"KVM_EXIT_IO_IN", KVM_EXIT_IO_IN},
                              {"KVM_EXIT_IO_OUT", KVM_EXIT_IO_OUT},
                              {"KVM_INTERNAL_ERROR_EMULATION", KVM_INTERNAL_ERROR_EMULATION},
                              {"KVM_INTERNAL_ERROR_SIMUL_EX", KVM_INTERNAL_ERROR_SIMUL_EX},
                              {"KVM_INTERNAL_ERROR_DELIVERY_EV", KVM_INTERNAL_ERROR_DELIVERY_EV},
                              {"KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON", KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON},
                          });
}

Napi::Object RunBlockLayout(Napi::Env env) {
  namespace rb = run_block;
  return NumberTable(env, {
                              {"size", rb::kSize},
                              {"regsU64", rb::kRegsU64},
                              {"regCount", rb::kRegCount},
                              {"mmioGpaU64", rb::kMmioGpaU64},
                              {"failEntryReasonU64", rb::kFailEntryReasonU64},
                              {"internalDataU64", rb::kInternalDataU64},
                              {"internalDataCount", rb::kInternalDataCount},
                              {"exitReasonU32", rb::kExitReasonU32},
                              {"ioDirectionU32", rb::kIoDirectionU32},
                              {"ioSizeU32", rb::kIoSizeU32},
                              {"ioPortU32", rb::kIoPortU32},
                              {"ioCountU32", rb::kIoCountU32},
                              {"ioValueU32", rb::kIoValueU32},
                              {"mmioSizeU32", rb::kMmioSizeU32},
                              {"mmioIsWriteU32", rb::kMmioIsWriteU32},
                              {"internalSuberrorU32", rb::kInternalSuberrorU32},
                              {"internalNdataU32", rb::kInternalNdataU32},
                              {"failEntryCpuU32", rb::kFailEntryCpuU32},
                          });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  KvmAddonData* data = InstallAddonData<KvmAddonData>(env);
  ExportClass(exports, "Kvm", Kvm::Define(env), data->kvm_constructor);
  ExportClass(exports, "VmFd", VmFd::Define(env), data->vm_fd_constructor);
  ExportClass(exports, "VcpuFd", VcpuFd::Define(env), data->vcpu_fd_constructor);
  Napi::Object abi = ExportShared(env, exports);
  abi.Set("kvm", KvmConstants(env));
  abi.Set("runBlock", RunBlockLayout(env));
  return exports;
}

}  // namespace
}  // namespace hyperlight_kvm

// The registration macro pastes the function name into an identifier, so it
// needs an unqualified name.
static Napi::Object InitHyperlightKvm(Napi::Env env, Napi::Object exports) { return hyperlight_kvm::Init(env, exports); }

NODE_API_MODULE(hyperlight_kvm, InitHyperlightKvm)
