// Conversions between KVM's register/CPUID structs and the plain JS objects
// the TypeScript side uses. Field names follow core's backend interface
// (Registers, SpecialRegisters, Segment, DescriptorTable). Every value read
// from JS is type- and range-checked; a bad one throws a TypeError/RangeError
// whose message names the field (e.g. "sregs.cs.dpl").
#ifndef HYPERLIGHT_KVM_CONVERT_H_
#define HYPERLIGHT_KVM_CONVERT_H_

#include <linux/kvm.h>
#include <napi.h>

#include <vector>

#include "js_number.h"

namespace hyperlight_kvm {

using namespace hyperlight_native;

// { rax: bigint, ..., r15, rip, rflags }
Napi::Object RegsToJs(Napi::Env env, const kvm_regs& regs);
kvm_regs RegsFromJs(Napi::Env env, Napi::Value value, const char* what);

// { cs, ds, es, fs, gs, ss, tr, ldt: Segment; gdt, idt: DescriptorTable;
//   cr0, cr2, cr3, cr4, cr8, efer, apicBase: bigint }
Napi::Object SregsToJs(Napi::Env env, const kvm_sregs& sregs);
// interrupt_bitmap is always zero: this addon creates no interrupt controller,
// so there is never a pending external interrupt to carry.
kvm_sregs SregsFromJs(Napi::Env env, Napi::Value value, const char* what);

// [{ function, index, flags, eax, ebx, ecx, edx }]
Napi::Array CpuidEntriesToJs(Napi::Env env, const kvm_cpuid_entry2* entries, uint32_t count);
std::vector<kvm_cpuid_entry2> CpuidEntriesFromJs(Napi::Env env, Napi::Value value, const char* what);

// [{ xcr: number, value: bigint }]
Napi::Array XcrsToJs(Napi::Env env, const kvm_xcrs& xcrs);
kvm_xcrs XcrsFromJs(Napi::Env env, Napi::Value value, const char* what);

}  // namespace hyperlight_kvm

#endif  // HYPERLIGHT_KVM_CONVERT_H_
