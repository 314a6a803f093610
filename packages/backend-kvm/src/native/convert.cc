#include "convert.h"

#include <cmath>
#include <string>

#include "throw.h"

namespace hyperlight_kvm {

namespace {

struct RegField {
  const char* name;
  __u64 kvm_regs::*member;
};
// Order of struct kvm_regs (and of core's Registers interface).
constexpr RegField kRegFields[] = {
    {"rax", &kvm_regs::rax}, {"rbx", &kvm_regs::rbx}, {"rcx", &kvm_regs::rcx}, {"rdx", &kvm_regs::rdx},
    {"rsi", &kvm_regs::rsi}, {"rdi", &kvm_regs::rdi}, {"rsp", &kvm_regs::rsp}, {"rbp", &kvm_regs::rbp},
    {"r8", &kvm_regs::r8},   {"r9", &kvm_regs::r9},   {"r10", &kvm_regs::r10}, {"r11", &kvm_regs::r11},
    {"r12", &kvm_regs::r12}, {"r13", &kvm_regs::r13}, {"r14", &kvm_regs::r14}, {"r15", &kvm_regs::r15},
    {"rip", &kvm_regs::rip}, {"rflags", &kvm_regs::rflags},
};

struct SegmentField {
  const char* name;
  kvm_segment kvm_sregs::*member;
};
constexpr SegmentField kSegmentFields[] = {
    {"cs", &kvm_sregs::cs}, {"ds", &kvm_sregs::ds}, {"es", &kvm_sregs::es},  {"fs", &kvm_sregs::fs},
    {"gs", &kvm_sregs::gs}, {"ss", &kvm_sregs::ss}, {"tr", &kvm_sregs::tr}, {"ldt", &kvm_sregs::ldt},
};

struct ControlField {
  const char* name;
  __u64 kvm_sregs::*member;
};
constexpr ControlField kControlFields[] = {
    {"cr0", &kvm_sregs::cr0}, {"cr2", &kvm_sregs::cr2},   {"cr3", &kvm_sregs::cr3},
    {"cr4", &kvm_sregs::cr4}, {"cr8", &kvm_sregs::cr8},   {"efer", &kvm_sregs::efer},
    {"apicBase", &kvm_sregs::apic_base},
};

struct FlagField {
  const char* name;
  __u8 kvm_segment::*member;
};
constexpr FlagField kSegmentFlags[] = {
    {"present", &kvm_segment::present}, {"db", &kvm_segment::db},   {"s", &kvm_segment::s},
    {"l", &kvm_segment::l},             {"g", &kvm_segment::g},     {"avl", &kvm_segment::avl},
    {"unusable", &kvm_segment::unusable},
};

// "prefix.name", built only when an error message needs it (never on success,
// so valid input costs no string allocations).
std::string FieldName(const std::string& prefix, const char* name) { return prefix + "." + name; }

Napi::Object AsObject(Napi::Env env, Napi::Value value, const std::string& what) {
  if (!value.IsObject()) ThrowTypeError(env, what + " must be an object");
  return value.As<Napi::Object>();
}

uint64_t GetBigUint64(Napi::Env env, Napi::Object object, const std::string& prefix, const char* name) {
  Napi::Value value = object.Get(name);
  if (!value.IsBigInt()) ThrowTypeError(env, FieldName(prefix, name) + " must be a bigint");
  bool lossless = false;
  uint64_t result = value.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) ThrowRangeError(env, FieldName(prefix, name) + " must be in [0, 2^64)");
  return result;
}

uint64_t GetUintField(Napi::Env env, Napi::Object object, const std::string& prefix, const char* name, uint64_t max) {
  Napi::Value value = object.Get(name);
  if (value.IsNumber()) {
    double number = value.As<Napi::Number>().DoubleValue();
    if (number >= 0 && number <= static_cast<double>(max) && std::floor(number) == number) {
      return static_cast<uint64_t>(number);
    }
  }
  return GetUint(env, value, max, FieldName(prefix, name));  // throws the right error
}

bool GetBool(Napi::Env env, Napi::Object object, const std::string& prefix, const char* name) {
  Napi::Value value = object.Get(name);
  if (!value.IsBoolean()) ThrowTypeError(env, FieldName(prefix, name) + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

Napi::Object SegmentToJs(Napi::Env env, const kvm_segment& segment) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("base", Napi::BigInt::New(env, static_cast<uint64_t>(segment.base)));
  object.Set("limit", Napi::Number::New(env, segment.limit));
  object.Set("selector", Napi::Number::New(env, segment.selector));
  object.Set("type", Napi::Number::New(env, segment.type));
  object.Set("present", Napi::Boolean::New(env, segment.present != 0));
  object.Set("dpl", Napi::Number::New(env, segment.dpl));
  object.Set("db", Napi::Boolean::New(env, segment.db != 0));
  object.Set("s", Napi::Boolean::New(env, segment.s != 0));
  object.Set("l", Napi::Boolean::New(env, segment.l != 0));
  object.Set("g", Napi::Boolean::New(env, segment.g != 0));
  object.Set("avl", Napi::Boolean::New(env, segment.avl != 0));
  object.Set("unusable", Napi::Boolean::New(env, segment.unusable != 0));
  return object;
}

kvm_segment SegmentFromJs(Napi::Env env, Napi::Value value, const std::string& what) {
  Napi::Object object = AsObject(env, value, what);
  kvm_segment segment = {};
  segment.base = GetBigUint64(env, object, what, "base");
  segment.limit = static_cast<__u32>(GetUintField(env, object, what, "limit", 0xffffffffu));
  segment.selector = static_cast<__u16>(GetUintField(env, object, what, "selector", 0xffff));
  segment.type = static_cast<__u8>(GetUintField(env, object, what, "type", 15));
  segment.dpl = static_cast<__u8>(GetUintField(env, object, what, "dpl", 3));
  for (const FlagField& flag : kSegmentFlags) {
    segment.*flag.member = GetBool(env, object, what, flag.name) ? 1 : 0;
  }
  return segment;
}

Napi::Object DtableToJs(Napi::Env env, const kvm_dtable& table) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("base", Napi::BigInt::New(env, static_cast<uint64_t>(table.base)));
  object.Set("limit", Napi::Number::New(env, table.limit));
  return object;
}

kvm_dtable DtableFromJs(Napi::Env env, Napi::Value value, const std::string& what) {
  Napi::Object object = AsObject(env, value, what);
  kvm_dtable table = {};
  table.base = GetBigUint64(env, object, what, "base");
  table.limit = static_cast<__u16>(GetUintField(env, object, what, "limit", 0xffff));
  return table;
}

}  // namespace


Napi::Object RegsToJs(Napi::Env env, const kvm_regs& regs) {
  Napi::Object object = Napi::Object::New(env);
  for (const RegField& field : kRegFields) {
    object.Set(field.name, Napi::BigInt::New(env, static_cast<uint64_t>(regs.*field.member)));
  }
  return object;
}

kvm_regs RegsFromJs(Napi::Env env, Napi::Value value, const char* what) {
  const std::string prefix = what;
  Napi::Object object = AsObject(env, value, prefix);
  kvm_regs regs = {};
  for (const RegField& field : kRegFields) regs.*field.member = GetBigUint64(env, object, prefix, field.name);
  return regs;
}

Napi::Object SregsToJs(Napi::Env env, const kvm_sregs& sregs) {
  Napi::Object object = Napi::Object::New(env);
  for (const SegmentField& field : kSegmentFields) object.Set(field.name, SegmentToJs(env, sregs.*field.member));
  object.Set("gdt", DtableToJs(env, sregs.gdt));
  object.Set("idt", DtableToJs(env, sregs.idt));
  for (const ControlField& field : kControlFields) {
    object.Set(field.name, Napi::BigInt::New(env, static_cast<uint64_t>(sregs.*field.member)));
  }
  return object;
}

kvm_sregs SregsFromJs(Napi::Env env, Napi::Value value, const char* what) {
  const std::string prefix = what;
  Napi::Object object = AsObject(env, value, prefix);
  kvm_sregs sregs = {};
  for (const SegmentField& field : kSegmentFields) {
    sregs.*field.member = SegmentFromJs(env, object.Get(field.name), FieldName(prefix, field.name));
  }
  sregs.gdt = DtableFromJs(env, object.Get("gdt"), FieldName(prefix, "gdt"));
  sregs.idt = DtableFromJs(env, object.Get("idt"), FieldName(prefix, "idt"));
  for (const ControlField& field : kControlFields) sregs.*field.member = GetBigUint64(env, object, prefix, field.name);
  return sregs;
}

Napi::Array CpuidEntriesToJs(Napi::Env env, const kvm_cpuid_entry2* entries, uint32_t count) {
  Napi::Array array = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    const kvm_cpuid_entry2& entry = entries[i];
    Napi::Object object = Napi::Object::New(env);
    object.Set("function", Napi::Number::New(env, entry.function));
    object.Set("index", Napi::Number::New(env, entry.index));
    object.Set("flags", Napi::Number::New(env, entry.flags));
    object.Set("eax", Napi::Number::New(env, entry.eax));
    object.Set("ebx", Napi::Number::New(env, entry.ebx));
    object.Set("ecx", Napi::Number::New(env, entry.ecx));
    object.Set("edx", Napi::Number::New(env, entry.edx));
    array.Set(i, object);
  }
  return array;
}

std::vector<kvm_cpuid_entry2> CpuidEntriesFromJs(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArray()) ThrowTypeError(env, std::string(what) + " must be an array of CPUID entries");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<kvm_cpuid_entry2> entries(array.Length());
  for (uint32_t i = 0; i < array.Length(); i++) {
    const std::string item = std::string(what) + "[" + std::to_string(i) + "]";
    Napi::Object object = AsObject(env, array.Get(i), item);
    kvm_cpuid_entry2& entry = entries[i];
    entry = {};
    entry.function = static_cast<__u32>(GetUintField(env, object, item, "function", 0xffffffffu));
    entry.index = static_cast<__u32>(GetUintField(env, object, item, "index", 0xffffffffu));
    entry.flags = static_cast<__u32>(GetUintField(env, object, item, "flags", 0xffffffffu));
    entry.eax = static_cast<__u32>(GetUintField(env, object, item, "eax", 0xffffffffu));
    entry.ebx = static_cast<__u32>(GetUintField(env, object, item, "ebx", 0xffffffffu));
    entry.ecx = static_cast<__u32>(GetUintField(env, object, item, "ecx", 0xffffffffu));
    entry.edx = static_cast<__u32>(GetUintField(env, object, item, "edx", 0xffffffffu));
  }
  return entries;
}

Napi::Array XcrsToJs(Napi::Env env, const kvm_xcrs& xcrs) {
  const uint32_t count = xcrs.nr_xcrs < KVM_MAX_XCRS ? xcrs.nr_xcrs : KVM_MAX_XCRS;
  Napi::Array array = Napi::Array::New(env, count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Object object = Napi::Object::New(env);
    object.Set("xcr", Napi::Number::New(env, xcrs.xcrs[i].xcr));
    object.Set("value", Napi::BigInt::New(env, static_cast<uint64_t>(xcrs.xcrs[i].value)));
    array.Set(i, object);
  }
  return array;
}

kvm_xcrs XcrsFromJs(Napi::Env env, Napi::Value value, const char* what) {
  if (!value.IsArray()) ThrowTypeError(env, std::string(what) + " must be an array of { xcr, value }");
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() > KVM_MAX_XCRS) {
    ThrowRangeError(env, std::string(what) + " holds at most " + std::to_string(KVM_MAX_XCRS) + " entries");
  }
  kvm_xcrs xcrs = {};
  xcrs.nr_xcrs = array.Length();
  for (uint32_t i = 0; i < array.Length(); i++) {
    const std::string item = std::string(what) + "[" + std::to_string(i) + "]";
    Napi::Object object = AsObject(env, array.Get(i), item);
    xcrs.xcrs[i].xcr = static_cast<__u32>(GetUintField(env, object, item, "xcr", 0xffffffffu));
    xcrs.xcrs[i].value = GetBigUint64(env, object, item, "value");
  }
  return xcrs;
}

}  // namespace hyperlight_kvm
