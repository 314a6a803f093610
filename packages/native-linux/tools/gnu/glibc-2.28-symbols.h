// Forced-included (g++ -include) into every source of the glibc build
// (linux-x64-gnu) only, so the addon runs on glibc 2.28 (RHEL/Rocky/Alma 8,
// Debian 10) while linked against a newer glibc.
//
// glibc 2.34 moved libpthread into libc and gave the moved functions new
// default versions (GLIBC_2.34; pthread_sigmask GLIBC_2.32). A reference
// compiled here binds to the version each function had before, which newer
// glibc still exports under that version. On glibc < 2.34 those versions live
// in libpthread.so.0, which the addon therefore lists as NEEDED (a stub on
// newer glibc). The dynamic loader matches a symbol by name and version in
// every loaded object, whichever library the link found it in.
//
// Only functions the addon calls itself are listed; what libstdc++'s
// statically linked objects call cannot be redirected here, so the addon
// avoids those (std::thread: native_thread.h; timed waits:
// monotonic_condition.h). native-linux's tools/prebuild-symbols.mjs checks
// every GLIBC_ symbol of the result against glibc 2.28's list.
#ifndef HYPERLIGHT_GLIBC_2_28_SYMBOLS_H_
#define HYPERLIGHT_GLIBC_2_28_SYMBOLS_H_

__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_detach, pthread_detach@GLIBC_2.2.5");
__asm__(".symver pthread_join, pthread_join@GLIBC_2.2.5");
__asm__(".symver pthread_sigmask, pthread_sigmask@GLIBC_2.2.5");
__asm__(".symver pthread_setname_np, pthread_setname_np@GLIBC_2.12");
__asm__(".symver pthread_condattr_setclock, pthread_condattr_setclock@GLIBC_2.3.3");

#endif  // HYPERLIGHT_GLIBC_2_28_SYMBOLS_H_
